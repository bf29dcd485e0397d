"""The verify run over installed distributions (``pip-guard verify``).

:func:`build_context` reads the target interpreter and configures the loader once;
:func:`verify_distribution` then finds every binary of one distribution by its magic bytes
(any name), loads each ELF file as the target's loader would and returns the findings of
:mod:`poetry_wheelguard.verify` with the report's ``verification`` record;
:func:`package_record` makes the report record. :func:`index_findings` adds, for
``--index``, the install policy applied to what is installed. Nothing is imported or
executed from the verified files: they are read as bytes.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.version import InvalidVersion, Version

from poetry_wheelguard.config import Config
from poetry_wheelguard.elf import ElfFacts, ElfIdent, ElfResult, NotElf, read_elf, sniff
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.factscache import FactsCache
from poetry_wheelguard.installed import DistInfo
from poetry_wheelguard.libc import musl_version_of
from poetry_wheelguard.loader import (
    MUSL_ARCH,
    Flavour,
    Loader,
    LoadTree,
    configure,
    resolve_in_root,
)
from poetry_wheelguard.models import SEVERITY_RANK, Candidate, Finding, PackageRecord, Selection
from poetry_wheelguard.targets import Target
from poetry_wheelguard.verify import (
    MACHINES,
    Runtime,
    check_distribution,
    check_files,
    is_extension,
)


@dataclass
class ScanContext:
    """One verify run's shared state (:func:`build_context` makes it).

    Attributes:
        target: the target interpreter; root: the image root (``/`` on the host).
        loader: the glibc/musl loader emulation, reading files through :meth:`facts`.
        runtime: what the checks of :mod:`poetry_wheelguard.verify` judge against.
        parents: the interpreter and its libpython, the objects an extension is loaded
            beside (their ``DT_NEEDED`` are already loaded).
        loaded: ``DT_NEEDED`` name -> path of what the interpreter has loaded.
        store: the facts cache; cache, by_path: facts read in this run, by
            ``(st_dev, st_ino)`` and by path.
    """

    target: Target
    root: str
    loader: Loader
    runtime: Runtime
    parents: tuple[ElfFacts, ...]
    loaded: dict[str, str]
    store: FactsCache = field(default_factory=lambda: FactsCache(None))
    cache: dict[tuple[int, int], ElfResult] = field(default_factory=dict)
    by_path: dict[str, ElfResult] = field(default_factory=dict)

    def facts(self, path: str) -> ElfResult:
        """The facts of ``path``, read once per file (symbolic links share them)."""
        found = self.by_path.get(path)
        if found is not None:
            return found
        try:
            st = os.stat(path)
        except OSError:
            found = read_elf(path)  # the one clear answer for an unreadable file
            self.by_path[path] = found
            return found
        ident = (st.st_dev, st.st_ino)
        if ident in self.cache:
            found = self.cache[ident]
            if isinstance(found, ElfFacts) and found.path != path:
                found = replace(found, path=path)  # keep the path the loader used ($ORIGIN)
        else:
            found = self.store.read(path, st)
            self.cache[ident] = found
        self.by_path[path] = found
        return found


def _runtime_ident(target: Target, exe: ElfResult | None) -> tuple[ElfIdent, str, int | None]:
    if isinstance(exe, ElfFacts):
        return (ElfIdent(exe.elf_class, exe.endianness, exe.e_machine, exe.osabi),
                exe.machine, exe.e_flags)
    known = MACHINES.get(target.machine)
    if known is None:
        raise WheelguardError(f"unsupported machine {target.machine!r}; verify knows "
                              f"{', '.join(MACHINES)}")
    em, cls, order, name = known
    return ElfIdent(cls, "little" if order == "little" else "big", em, 0), name, None


def build_context(target: Target, root: str = "/", *, interp: str | None = None,
                  libc_path: str | None = None, ld_library_path: str | None = None,
                  store: FactsCache | None = None) -> ScanContext:
    """Read the interpreter (when its binary is known), configure the loader and load the
    interpreter's global scope. ``store`` is the facts cache (none by default).

    Raises:
        WheelguardError: the target's machine is unknown.
    """
    store = store or FactsCache(None)
    exe_path = os.path.realpath(target.executable) if target.executable else None
    exe = store.read(exe_path) if exe_path and os.path.isfile(exe_path) else None
    ident, machine, e_flags = _runtime_ident(target, exe)
    flavour: Flavour = "musl" if target.libc == "musl" else "glibc"
    exe_facts = exe if isinstance(exe, ElfFacts) else None
    loader_path = interp or (exe_facts.interp if exe_facts else None) or ""
    if flavour == "musl" and not loader_path:
        loader_path = f"/lib/ld-musl-{MUSL_ARCH.get(machine, 'x86_64')}.so.1"
    config = configure(flavour, ident, machine, root=root, interp=loader_path,
                       e_flags=e_flags or 0, ld_library_path=ld_library_path,
                       libc_version=target.libc_version)
    ctx = ScanContext(target, root, Loader(config, lambda p: ctx.facts(p)),
                   Runtime(target, ident.elf_class, ident.endianness, ident.e_machine,
                           e_flags, root=root), (), {}, store)
    scope: list[str] = []
    if exe_facts is not None:
        ctx.by_path[exe_facts.path] = exe_facts
        tree = ctx.loader.load(exe_facts)
        scope += tree.objects
        for res in tree.resolutions:
            if res.path:
                ctx.loaded.setdefault(res.needed, res.path)
        parents = [ctx.facts(p) for p in tree.objects[1:]
                   if "libpython" in os.path.basename(p)]
        ctx.parents = (*[p for p in parents if isinstance(p, ElfFacts)], exe_facts)
    else:
        name = "libc.so" if flavour == "musl" else "libc.so.6"
        libc = libc_path or ctx.loader.find_system(name)
        if libc:
            scope.append(libc)
            ctx.loaded[name] = libc
    host_interp = resolve_in_root(root, loader_path) if loader_path else None
    if host_interp and host_interp not in scope:
        scope.append(host_interp)
    release: tuple[int, ...] | None = target.libc_version
    if flavour == "musl" and host_interp:
        release = musl_version_of(host_interp, root) or release  # with its patch level
    defined: set[str] = set()
    for obj in scope:
        found = ctx.facts(obj)
        if isinstance(found, ElfFacts):
            defined |= found.defined
    ctx.runtime = replace(ctx.runtime, global_scope=tuple(scope),
                          python_symbols=exe_facts is not None,
                          global_defined=frozenset(defined), libc_release=release)
    return ctx


def _binaries(dist: DistInfo, ctx: ScanContext) -> dict[str, ElfResult]:
    """Every file of ``dist`` whose magic bytes say ELF, Mach-O or PE (any name).

    A cached scan is used only when every path it names is one of ``dist.files`` (the
    RECORD entries :mod:`poetry_wheelguard.installed` accepted: regular files inside the
    environment) with a known kind; any other cached scan is damaged or forged, and the
    files are scanned again, so a cache file can never make verify open another path."""
    record_key = None
    kinds: dict[str, str] | None = None
    try:
        record_key = "record:" + FactsCache.key(os.stat(os.path.join(dist.path, "RECORD")))
        cached = ctx.store.scan(record_key)
        found = cached.get("binaries") if isinstance(cached, dict) else None
        if isinstance(found, dict):
            allowed = set(dist.files)
            if all(isinstance(k, str) and k in allowed and v in ("elf", "macho", "pe")
                   for k, v in found.items()):
                kinds = found
    except OSError:
        record_key = None
    if kinds is None:
        kinds = {}
        for path in dist.files:
            magic = sniff(path)
            if magic in ("elf", "macho", "pe"):
                kinds[path] = magic
        if record_key is not None:
            ctx.store.store_scan(record_key, kinds)
    out: dict[str, ElfResult] = {}
    for path, kind in kinds.items():
        if kind == "elf":
            out[path] = ctx.facts(path)
        elif kind in ("macho", "pe"):
            out[path] = NotElf(path, "macho" if kind == "macho" else "pe")
    return out


def _matches(facts: ElfFacts, rt: Runtime) -> bool:
    return (facts.elf_class, facts.endianness, facts.e_machine) == (
        rt.elf_class, rt.endianness, rt.e_machine) and facts.loadable


def verify_distribution(dist: DistInfo, ctx: ScanContext) -> tuple[list[Finding], dict[str, Any]]:
    """All findings of one distribution and its ``verification`` record."""
    rt = ctx.runtime
    results = _binaries(dist, ctx)
    trees: dict[str, LoadTree] = {}
    for path, result in results.items():
        if isinstance(result, ElfFacts) and _matches(result, rt):
            parents = () if result.interp else ctx.parents
            loaded = {} if result.interp else ctx.loaded
            trees[path] = ctx.loader.load(result, parents, loaded)
    objects: dict[str, ElfResult] = {}
    for tree in trees.values():
        for obj in tree.objects:
            objects[obj] = results.get(obj) or ctx.facts(obj)
    for obj in rt.global_scope:
        objects.setdefault(obj, ctx.facts(obj))
    findings = check_files(dist, results, trees, objects, rt)
    elf_files = [p for p, r in results.items() if not isinstance(r, NotElf)]
    findings += check_distribution(dist, ctx.target, len(results), len(elf_files))
    findings.sort(key=lambda f: -SEVERITY_RANK[f.severity])
    extensions = [p for p, r in results.items() if isinstance(r, ElfFacts) and is_extension(p, r)]
    record = {
        "provenance": dist.provenance,
        "provenance_reason": dist.provenance_reason,
        "installer": dist.installer or None,
        "generator": dist.generator or None,
        "dist_info": dist.path,
        "record": dist.has_record,
        "files": len(dist.files),
        "binaries": len(results),
        "elf_files": len(elf_files),
        "elf_bytes": sum(_size(p) for p in elf_files),
        "extensions": len(extensions),
        "resolved": {
            os.path.relpath(p, dist.site): {r.needed: r.path for r in t.resolutions
                                            if r.by == p}
            for p, t in trees.items()
        },
    }
    return findings, record


def _size(path: str) -> int:
    """Size of ``path`` in bytes, 0 when it cannot be read."""
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


def package_record(dist: DistInfo, findings: list[Finding], record: dict[str, Any],
                   strict: bool) -> PackageRecord:
    """The report record of one verified distribution."""
    from poetry_wheelguard.policy import verdict_for

    url = str((dist.direct_url or {}).get("url", ""))
    selection = Selection(
        name=dist.name, version=dist.version,
        chosen=Candidate(filename=dist.wheel_filename(), url=url),
        first_party=dist.first_party,
        built_locally=None if dist.provenance == "unknown" else dist.provenance == "local",
    )
    return PackageRecord(selection=selection, kind="wheel", tags=dist.tags, pure=dist.pure,
                         findings=findings, verdict=verdict_for(findings, strict),
                         verification=record)


def index_findings(dists: Sequence[DistInfo], target: Target, config: Config, index_url: str
                   ) -> dict[str, list[Finding]]:
    """``policy.evaluate`` for each installed distribution against ``index_url``'s listing
    of its version: the installed wheel (or, for a local build, the release's sdist) is the
    chosen file. First-party distributions are skipped; a project the index does not list
    gets an ``info`` finding.

    Raises:
        IndexFetchError: the index cannot be reached.
    """
    from poetry_wheelguard.errors import IndexFetchError
    from poetry_wheelguard.index import IndexClient, IndexConfig, default_cache_dir
    from poetry_wheelguard.policy import evaluate

    client = IndexClient(IndexConfig(index_urls=(index_url,), cache_dir=default_cache_dir()))
    wanted = [d for d in dists if not d.first_party]
    out: dict[str, list[Finding]] = {}
    try:
        listings = client.listings([d.name for d in wanted])
    except IndexFetchError:
        listings = {}
        for d in wanted:
            try:
                listings[d.name] = client.listing(d.name)
            except IndexFetchError as exc:
                if "not found" not in exc.reason:
                    raise
                out[d.name] = [Finding("NOT_ON_INDEX", "info",
                                       f"{d.display_name} {d.version}: not listed on the index",
                                       "", d.path)]
    for d in wanted:
        listing = listings.get(d.name)
        if listing is None:
            continue
        try:
            version = str(Version(d.version))
        except InvalidVersion:
            version = d.version
        files = listing.versions().get(version, [])
        chosen = Candidate(d.wheel_filename())
        if d.provenance == "local":
            sdists = [f.candidate for f in files if f.dist.kind == "sdist"]
            chosen = sdists[0] if sdists else chosen
        selection = Selection(name=d.name, version=d.version, chosen=chosen,
                              candidates=tuple(f.candidate for f in files),
                              other_versions=listing.other_versions(exclude=version),
                              index=listing.sources[-1] if listing.sources else "")
        out.setdefault(d.name, []).extend(evaluate(selection, target, config).findings)
    return out
