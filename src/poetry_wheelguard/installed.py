"""Installed distributions -> their files and where they came from (their dist-info).

Sources: the installed-project format ("Recording installed projects", PyPA spec, from
PEP 376/627): ``<name>-<version>.dist-info/`` with ``METADATA``, ``RECORD`` (CSV of paths
relative to the site directory), ``INSTALLER``; the wheel's own ``WHEEL`` file (PEP 427:
``Wheel-Version``, ``Generator``, ``Root-Is-Purelib``, one ``Tag:`` line per tag); and
``direct_url.json`` (PEP 610) for requirements that were not a name from an index.

Provenance (:data:`Provenance`):

- ``local`` - built on this machine from source: a ``linux_<arch>`` platform tag (what pip,
  uv and Poetry give a wheel they build; indexes such as PyPI refuse such uploads), or a
  ``direct_url.json`` naming a directory, a VCS checkout or an sdist archive;
- ``pure`` - every tag is ``*-none-any``;
- ``index`` - a platform wheel (``manylinux``/``musllinux``/...) downloaded as built;
- ``unknown`` - no ``WHEEL`` file (``.egg-info`` installs, broken dist-info).

Nothing here imports or executes an installed file; files are only listed and sniffed.
Only regular files inside the distribution's environment (:func:`environment_root`) are
listed in :attr:`DistInfo.files`: a ``RECORD`` entry that escapes it (``../`` past the
prefix, an absolute path elsewhere, a symbolic link out of it), names a device, FIFO,
socket or directory, or holds a NUL byte goes to :attr:`DistInfo.record_problems` and is
never opened (verify reports it as ``RECORD_ESCAPE``). A dist-info without ``METADATA`` is
still read (its files are checked), with :attr:`DistInfo.metadata_missing` set.
"""

from __future__ import annotations

import csv
import json
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from packaging.tags import parse_tag

from poetry_wheelguard.distfiles import normalize, try_classify
from poetry_wheelguard.models import NormalizedName

Provenance = Literal["index", "local", "pure", "unknown"]

@dataclass(frozen=True)
class DistInfo:
    """One installed distribution.

    Attributes:
        name: PEP 503 normalized name; display_name: as ``METADATA`` spells it.
        version: ``METADATA`` ``Version``.
        path: the ``.dist-info`` (or ``.egg-info``) directory.
        site: the site directory holding it (``RECORD`` paths are relative to it).
        tags: the ``WHEEL`` file's ``Tag:`` values, expanded (``cp311-cp311-linux_x86_64``).
        root_is_purelib: ``Root-Is-Purelib`` of ``WHEEL``; ``None`` without ``WHEEL``.
        generator: ``Generator`` of ``WHEEL`` (``bdist_wheel (0.41.2)``, ``maturin (1.4)``).
        installer: the ``INSTALLER`` file's first line (``pip``, ``uv``), ``""`` if none.
        direct_url: the parsed ``direct_url.json`` (PEP 610), or ``None``.
        files: absolute paths of every ``RECORD`` entry (or ``installed-files.txt`` entry
            of an ``.egg-info``), as listed (a deleted file stays listed).
        has_record: ``RECORD`` (or ``installed-files.txt``) was found.
        provenance: see the module docstring; provenance_reason: one phrase why.
        first_party: ``direct_url.json`` names a local directory or a VCS checkout.
        record_problems: ``(entry as listed, why it is not read)`` for each ``RECORD``
            entry left out of ``files`` (see the module docstring).
        metadata_missing: the dist-info has no readable ``METADATA`` (``PKG-INFO``); name
            and version come from the directory name.
    """

    name: NormalizedName
    display_name: str
    version: str
    path: str
    site: str
    tags: tuple[str, ...]
    root_is_purelib: bool | None
    generator: str
    installer: str
    direct_url: dict[str, Any] | None
    files: tuple[str, ...]
    has_record: bool
    provenance: Provenance
    provenance_reason: str
    first_party: bool
    record_problems: tuple[tuple[str, str], ...] = ()
    metadata_missing: bool = False

    @property
    def pure(self) -> bool:
        """True when every ``WHEEL`` tag is ``*-none-any`` (PEP 425)."""
        return bool(self.tags) and all(t.endswith("-none-any") for t in self.tags)

    def relpath(self, path: str) -> str:
        """``path`` relative to the site directory (as ``RECORD`` writes it)."""
        return os.path.relpath(path, self.site)

    def wheel_filename(self) -> str:
        """The wheel file this was installed from: the ``direct_url.json`` archive's name,
        else rebuilt from name, version and tags (``numpy-2.1.0-cp311-cp311-...whl``)."""
        url = (self.direct_url or {}).get("url", "")
        if isinstance(url, str) and url.rsplit("/", 1)[-1].endswith(".whl"):
            return url.rsplit("/", 1)[-1]
        if not self.tags:
            return f"{self.display_name}-{self.version}"
        parts = [t.split("-", 2) for t in self.tags]
        compressed = "-".join(".".join(dict.fromkeys(p[i] for p in parts)) for i in range(3))
        return f"{self.name.replace('-', '_')}-{self.version}-{compressed}.whl"


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return None


def _headers(text: str) -> dict[str, list[str]]:
    """The header block of an RFC 822-style file (``METADATA``, ``WHEEL``): lowercased
    field names -> values in order; a line starting with white space continues the field
    before it; the block ends at the first empty line (``METADATA``'s body follows)."""
    out: dict[str, list[str]] = {}
    last: list[str] | None = None
    end = text.find("\n\n")
    for line in (text if end < 0 else text[:end]).splitlines():
        if not line.strip():
            break
        if line[0] in " \t" and last is not None:
            last[-1] = f"{last[-1]} {line.strip()}"
            continue
        key, sep, value = line.partition(":")
        if not sep:
            continue
        last = out.setdefault(key.strip().lower(), [])
        last.append(value.strip())
    return out


def _expand_tags(values: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for value in values:
        try:
            out += [str(t) for t in parse_tag(value)]
        except ValueError:
            continue
    return tuple(dict.fromkeys(out))


def environment_root(site: str) -> str:
    """The directory a distribution's files may be in: the installation prefix of a
    ``<prefix>/lib[64]/pythonX.Y/site-packages`` (or ``dist-packages``) directory, where
    ``RECORD`` also lists scripts (``../../../bin/x``), headers and data files; else
    ``site`` itself."""
    site = os.path.normpath(site)
    parent, grand = os.path.split(os.path.dirname(site))
    if os.path.basename(site) in ("site-packages", "dist-packages") and \
            grand.startswith("python") and os.path.basename(parent) in ("lib", "lib64"):
        return os.path.dirname(parent)
    if os.path.basename(site) == "dist-packages" and grand == "python3":  # Debian's
        return os.path.dirname(parent) if os.path.basename(parent) == "lib" else site
    return site


_KINDS = ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory"))


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _check_entry(path: str, root: str, real_root: str) -> str | None:
    """Why ``path`` (absolute, normalized) may not be read, or ``None`` when it may: a
    regular file inside ``root`` (or a file that does not exist any more), reached through
    symbolic links that stay inside ``real_root``."""
    if not _inside(path, root):
        return f"outside the environment {root}"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None  # deleted since the install: listed, verify says it is missing
    except OSError:
        return None
    if stat.S_ISLNK(st.st_mode):
        real = os.path.realpath(path)
        if not _inside(real, real_root):
            return f"a symbolic link to {real}, outside the environment {root}"
        try:
            st = os.stat(real)
        except OSError:
            return None
    for test, kind in _KINDS:
        if test(st.st_mode):
            return f"not a regular file ({kind})"
    return None


def _record_files(dist_dir: str, site: str, link_root: str | None = None
                  ) -> tuple[tuple[str, ...], bool, tuple[tuple[str, str], ...]]:
    record = os.path.join(dist_dir, "RECORD")
    base = site
    rows: list[str] = []
    problems: list[tuple[str, str]] = []
    if os.path.isfile(record):
        text = _read_text(record)
        if text is None:
            return (), False, ()
        for line in text.splitlines():
            if "\0" in line:  # csv refuses NUL (Python < 3.11); no path holds one
                problems.append((line.split(",", 1)[0].replace("\0", "\\0"),
                                 "a path holding a NUL byte"))
                continue
            try:
                rows += [row[0] for row in csv.reader([line]) if row and row[0]]
            except csv.Error:
                problems.append((line[:200], "not a valid CSV line"))
    else:
        listing = os.path.join(dist_dir, "installed-files.txt")  # .egg-info installs
        text = _read_text(listing)
        if text is None:
            return (), False, ()
        rows = [line.strip() for line in text.splitlines() if line.strip()]
        base = dist_dir
    root = environment_root(site)
    real_root = os.path.realpath(link_root or root)
    prefix = base.rstrip("/") + "/"
    files: list[str] = []
    for rel in dict.fromkeys(rows):
        if "\0" in rel:
            problems.append((rel.replace("\0", "\\0"), "a path holding a NUL byte"))
            continue
        clean = ".." not in rel and not rel.startswith("/") and "//" not in rel \
            and "/./" not in rel
        path = prefix + rel if clean else os.path.normpath(os.path.join(base, rel))
        why = _check_entry(path, root, real_root)
        if why is None:
            files.append(path)
        else:
            problems.append((rel, why))
    return tuple(dict.fromkeys(files)), True, tuple(problems)


def provenance_of(tags: Sequence[str], direct_url: dict[str, Any] | None,
                  has_wheel: bool) -> tuple[Provenance, str, bool]:
    """``(provenance, reason, first_party)`` from the ``WHEEL`` tags and PEP 610 data."""
    first_party = False
    if direct_url:
        if "dir_info" in direct_url:
            first_party = True
            editable = bool((direct_url.get("dir_info") or {}).get("editable"))
            return "local", "built from a local directory" + (" (editable)" if editable
                                                             else ""), True
        if "vcs_info" in direct_url:
            return "local", "built from a VCS checkout", True
        filename = str(direct_url.get("url", "")).rsplit("/", 1)[-1]
        archive = try_classify(filename)
        if archive is not None and archive.kind == "sdist":
            return "local", f"built from the sdist {filename}", first_party
    if not has_wheel or not tags:
        return "unknown", "no WHEEL file", first_party
    if all(t.endswith("-none-any") for t in tags):
        return "pure", "pure wheel (every tag *-none-any)", first_party
    linux = [t for t in tags if t.split("-", 2)[2].startswith("linux_")]
    if linux:
        return "local", f"built locally (tag {linux[0]}: installers give that tag to the " \
                        "wheels they build; indexes do not serve it)", first_party
    return "index", "platform wheel", first_party


def read_distribution(dist_dir: str, site: str, link_root: str | None = None
                      ) -> DistInfo | None:
    """Read one ``.dist-info``/``.egg-info`` directory; ``None`` if it has neither metadata
    nor a file list. Without ``METADATA`` the name and version come from the directory
    name and :attr:`DistInfo.metadata_missing` is set. ``link_root``: see
    :func:`find_distributions`."""
    is_egg = dist_dir.endswith(".egg-info")
    meta = _read_text(os.path.join(dist_dir, "PKG-INFO" if is_egg else "METADATA"))
    files, has_record, problems = _record_files(dist_dir, site, link_root)
    if meta is None and not has_record:
        return None
    head = _headers(meta or "")
    display = (head.get("name") or [""])[0]
    version = (head.get("version") or [""])[0]
    if not display:
        stem = os.path.basename(dist_dir).rsplit(".", 1)[0]
        display, _, version = stem.partition("-")
    wheel_text = _read_text(os.path.join(dist_dir, "WHEEL"))
    wheel = _headers(wheel_text) if wheel_text is not None else {}
    tags = _expand_tags(wheel.get("tag", []))
    purelib = next(iter(wheel.get("root-is-purelib") or []), None)
    direct: dict[str, Any] | None = None
    raw = _read_text(os.path.join(dist_dir, "direct_url.json"))
    if raw is not None:
        try:
            loaded = json.loads(raw)
            direct = loaded if isinstance(loaded, dict) else None
        except (json.JSONDecodeError, RecursionError):  # malformed or nested too deeply
            direct = None
    prov, reason, first_party = provenance_of(tags, direct, wheel_text is not None)
    installer = (_read_text(os.path.join(dist_dir, "INSTALLER")) or "").strip().splitlines()
    return DistInfo(
        name=normalize(display), display_name=display, version=version, path=dist_dir,
        site=site, tags=tags,
        root_is_purelib=None if purelib is None else purelib.lower() == "true",
        generator=(wheel.get("generator") or [""])[0], installer=installer[0] if installer
        else "", direct_url=direct, files=files, has_record=has_record, provenance=prov,
        provenance_reason=reason, first_party=first_party, record_problems=problems,
        metadata_missing=meta is None,
    )


def find_distributions(sites: Iterable[str], names: Iterable[str] | None = None,
                       link_root: str | None = None) -> list[DistInfo]:
    """Every distribution installed in ``sites`` (each directory once, in order), sorted by
    name; only those whose normalized name is in ``names`` when given. A name found in two
    sites is taken from the first, as ``importlib.metadata`` would.

    A ``RECORD`` entry must lie inside its environment's prefix; a symbolic link there may
    point anywhere inside ``link_root`` (the root of an image or sysroot, where a
    distribution's file links to ``/opt/...`` of the same image), by default only inside
    the environment itself."""
    wanted = {normalize(n) for n in names} if names is not None else None
    seen: set[str] = set()
    out: dict[str, DistInfo] = {}
    for site in sites:
        site = os.path.abspath(site)
        if site in seen or not os.path.isdir(site):
            continue
        seen.add(site)
        try:
            entries = sorted(os.listdir(site))
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            path = os.path.join(site, entry)
            if not os.path.isdir(path):
                continue
            dist = read_distribution(path, site, link_root)
            if dist is None or dist.name in out:
                continue
            if wanted is not None and dist.name not in wanted:
                continue
            out[dist.name] = dist
    return sorted(out.values(), key=lambda d: d.name)
