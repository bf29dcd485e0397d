"""What changed between two wheelguard reports (``pip-guard diff``, :mod:`.cli.diff`).

    pip-guard diff A.json B.json [--a-target NAME] [--b-target NAME] [--json] [--report PATH]

Typical use: the plan (or install/verify report) of the same requirements for two images,
``python:3.12-slim`` and ``python:3.12-alpine``. Packages are matched by PEP 503 name.
For each package the diff says:

* ``only in A`` / ``only in B``;
* ``version``: the version changed;
* ``kind``: the chosen file's kind changed: ``platform wheel`` (any non-pure wheel, abi3
  included), ``pure wheel``, ``sdist`` (a local build), ``no file`` (``NO_DISTRIBUTION``),
  ``local project``;
* ``file``: same version and kind, another file: its platform (the libc family
  ``manylinux`` / ``musllinux`` / ``linux_<arch>`` of a local build, the libc version, the
  architecture: shown as ``manylinux_2_17_x86_64 -> musllinux_1_2_x86_64``), or else its
  tags or build number (shown as both file names). Two names of the same wheel (tags in
  another order, as a verify report rebuilds the name from ``WHEEL``) are the same file;
* ``compiled``: when both sides carry verification data (a package's ``verification``
  object, written by verify and by install with verification), the number or total size in
  bytes of compiled (ELF) files of the distribution changed; a side without the data says
  nothing about compiled files;
* ``installed``: when both sides carry it (``verification.installed_bytes``, written by
  ``pip-guard audit``), the distribution's installed size on disk changed;
* ``findings``: the warning/error codes changed (shown with the other changes).

An audit report holds a package once per environment of the image: a name found in a
second environment is shown as ``NAME (PREFIX)``.

A plan report for several targets holds a package once per target (its ``target`` field):
pick one with ``--a-target``/``--b-target`` (the same file may be given twice). Output: a
table (rich; none when nothing differs) and a summary line, or the ``wheelguard-report/1``
JSON with ``command: "diff"`` and a ``diff`` object (``--json`` to standard output,
``--report PATH`` to a file). An unreadable or invalid report gives one line and exit
code 12.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from packaging.utils import parse_wheel_filename

from poetry_wheelguard import exitcodes
from poetry_wheelguard.distfiles import (
    LibcFlavour,
    PlatformInfo,
    normalize,
    platform_info,
    try_classify,
)
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.render import human_size, print_table
from poetry_wheelguard.report import Report, load_report, now_iso
from poetry_wheelguard.targets import linux_platforms

KIND_LABELS = ("platform wheel", "pure wheel", "sdist", "no file", "local project")


@dataclass(frozen=True)
class Side:
    """One package in one report, reduced to what the diff compares.

    Attributes:
        version: the version string.
        kind: one of :data:`KIND_LABELS`.
        filename: the chosen file (``""`` when none).
        platform: the chosen wheel's platform (:func:`platform_label`), ``""`` for a pure
            wheel, an sdist or no file.
        codes: warning/error finding codes, sorted.
        compiled_files: number of compiled files (verify reports), else ``None``.
        compiled_bytes: their total size in bytes (verify reports), else ``None``.
        installed_bytes: installed size on disk (audit reports), else ``None``.
    """

    version: str
    kind: str
    filename: str
    platform: str
    codes: tuple[str, ...]
    compiled_files: int | None
    compiled_bytes: int | None
    installed_bytes: int | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON form (``installed_bytes`` only when known)."""
        out: dict[str, Any] = {
            "version": self.version, "kind": self.kind, "filename": self.filename,
            "platform": self.platform, "codes": list(self.codes),
            "compiled_files": self.compiled_files, "compiled_bytes": self.compiled_bytes}
        if self.installed_bytes is not None:
            out["installed_bytes"] = self.installed_bytes
        return out


@dataclass(frozen=True)
class Change:
    """One package that differs: ``what`` lists ``only_a``, ``only_b``, ``version``,
    ``kind``, ``file``, ``compiled``, ``installed``, ``findings``."""

    name: str
    a: Side | None
    b: Side | None
    what: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """JSON form."""
        return {"name": self.name, "changes": list(self.what),
                "a": self.a.to_json() if self.a else None,
                "b": self.b.to_json() if self.b else None}


def kind_label(pkg: Mapping[str, Any]) -> str:
    """The kind of a report package object: see :data:`KIND_LABELS`."""
    if pkg.get("first_party"):
        return "local project"
    kind = pkg.get("kind")
    if kind is None:
        return "no file"
    if kind == "sdist":
        return "sdist"
    return "pure wheel" if pkg.get("pure") else "platform wheel"


def _as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def compiled_summary(verification: Any) -> tuple[int | None, int | None]:
    """``(count, total bytes)`` of a package's compiled files from its ``verification``
    object (written by ``pip-guard verify``): the count is ``elf_files`` (or
    ``compiled_files``: a count or a list of ``{path, size}`` objects), the size
    ``elf_bytes`` (or ``compiled_bytes``, else the sum of the listed sizes); ``None`` for
    what the object does not say."""
    if not isinstance(verification, Mapping):
        return None, None
    files = verification.get("compiled_files", verification.get("elf_files"))
    size = _as_int(verification.get("compiled_bytes", verification.get("elf_bytes")))
    if isinstance(files, list):
        sizes = [_as_int(f.get("size")) for f in files if isinstance(f, Mapping)]
        if size is None and sizes and all(s is not None for s in sizes):
            size = sum(s for s in sizes if s is not None)
        return len(files), size
    return _as_int(files), size


def platform_label(filename: str) -> str:
    """The platform of a wheel file name, as one tag per system it loads on: ``""`` for a
    pure wheel, an sdist or a name that is not a distribution file.

    The facts come from :func:`distfiles.classify` (``packaging``'s PEP 427 parse) and
    :func:`distfiles.platform_info`. The platform tags of one OS, architecture and libc
    family are shown once: by the lowest libc version among them (PEP 600/656: a wheel
    loads where any of its tags does, so the lowest is what it needs), in the first name
    that system's own tag list (:func:`targets.linux_platforms`) has for it: the PEP 600
    name before its legacy alias, so ``manylinux2014_x86_64`` alone is shown as
    ``manylinux_2_17_x86_64``. Other OSes, which carry no libc version, list their tags.
    Several systems are joined by ``.`` as in a compressed tag set.

    ``cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64`` -> ``manylinux_2_17_x86_64``;
    ``cp310-cp310-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_12_x86_64.manylinux2010_x86_64``
    -> ``manylinux_2_5_x86_64``; a local build's ``linux_x86_64`` -> ``linux_x86_64``.
    """
    dist = try_classify(filename) if filename else None
    if dist is None or dist.kind != "wheel" or dist.pure:
        return ""
    systems: dict[tuple[str, str, LibcFlavour], list[tuple[PlatformInfo, str]]] = {}
    for raw in {tag.platform for tag in dist.tags if tag.platform != "any"}:
        info = platform_info(raw)
        systems.setdefault((info.os, info.machine, info.libc), []).append((info, raw))
    labels = []
    for (os_name, machine, libc), members in systems.items():
        lowest = min((i.libc_version for i, _ in members if i.libc_version), default=None)
        names = sorted(raw for i, raw in members if i.libc_version == lowest)
        if os_name != "linux":
            labels.append(".".join(names))
            continue
        same = [t for t in linux_platforms(libc, lowest, machine)
                if platform_info(t) == PlatformInfo(os_name, machine, libc, lowest)]
        labels.append(same[0] if same else names[0])
    return ".".join(sorted(labels))


def file_identity(filename: str) -> tuple[Any, ...]:
    """What makes two chosen files the same file: for a wheel its PEP 425 tag set and build
    number (``packaging.utils.parse_wheel_filename``), so the order of a compressed tag set
    and the spelling of the project name do not count; otherwise the file name itself."""
    dist = try_classify(filename) if filename else None
    if dist is None or dist.kind != "wheel":
        return ("name", filename)
    return ("wheel", dist.tags, parse_wheel_filename(dist.filename)[2])


def _side(pkg: Mapping[str, Any]) -> Side:
    codes = sorted({str(f.get("code")) for f in pkg.get("findings", [])
                    if isinstance(f, Mapping) and f.get("severity") in ("warning", "error")})
    count, size = compiled_summary(pkg.get("verification"))
    filename = str(pkg.get("filename") or "")
    verification = pkg.get("verification")
    installed = _as_int(verification.get("installed_bytes")) \
        if isinstance(verification, Mapping) else None
    return Side(str(pkg["version"]), kind_label(pkg), filename, platform_label(filename),
                tuple(codes), count, size, installed)


def _targets_of(data: Mapping[str, Any]) -> list[str]:
    return list(dict.fromkeys(str(p["target"]) for p in data["packages"] if p.get("target")))


def packages_for(data: Mapping[str, Any], path: str, target: str | None,
                 option: str) -> tuple[dict[str, Side], str]:
    """``({normalized name: Side}, target label)`` of one report, for one target of a
    multi-target plan.

    Raises:
        WheelguardError: several targets and none chosen, or an unknown target chosen.
    """
    names = _targets_of(data)
    if target is None and len(names) > 1:
        raise WheelguardError(f"the report holds {len(names)} targets ({', '.join(names)}); "
                              f"choose one with {option}", filename=path)
    if target is not None and names and target not in names:
        raise WheelguardError(f"no target {target!r} in the report (it has "
                              f"{', '.join(names)})", filename=path)
    label = target or (names[0] if names else _single_target_name(data))
    out: dict[str, Side] = {}
    for pkg in data["packages"]:
        if target is not None and names and pkg.get("target") != target:
            continue
        key: str = normalize(pkg["name"])
        verification = pkg.get("verification")
        if key in out and isinstance(verification, Mapping) and verification.get("environment"):
            key = f"{key} ({verification['environment']})"  # an audit's second environment
        out[key] = _side(pkg)
    return out, label


def _single_target_name(data: Mapping[str, Any]) -> str:
    target = data.get("target")
    if isinstance(target, list) and len(target) == 1:
        target = target[0]
    if isinstance(target, Mapping):
        return str(target.get("name") or "")
    return ""


def _known_and_different(x: int | None, y: int | None) -> bool:
    return x is not None and y is not None and x != y


def diff_packages(a: Mapping[str, Side], b: Mapping[str, Side]) -> list[Change]:
    """Every package that differs between ``a`` and ``b``, A's order first.

    ``file`` is a change only at the same version and kind (a new version or kind always
    brings another file, and says so itself), between two named files whose
    :func:`file_identity` differs. ``compiled`` compares the count, and the size, only when
    both sides know it.
    """
    out = []
    for name in dict.fromkeys([*a, *b]):
        sa, sb = a.get(name), b.get(name)
        if sa is None or sb is None:
            out.append(Change(name, sa, sb, ("only_a",) if sb is None else ("only_b",)))
            continue
        what = []
        if sa.version != sb.version:
            what.append("version")
        if sa.kind != sb.kind:
            what.append("kind")
        elif (sa.version == sb.version and sa.filename and sb.filename
              and file_identity(sa.filename) != file_identity(sb.filename)):
            what.append("file")
        if (_known_and_different(sa.compiled_files, sb.compiled_files)
                or _known_and_different(sa.compiled_bytes, sb.compiled_bytes)):
            what.append("compiled")
        if _known_and_different(sa.installed_bytes, sb.installed_bytes):
            what.append("installed")
        if sa.codes != sb.codes:
            what.append("findings")
        if what:
            out.append(Change(name, sa, sb, tuple(what)))
    return out


def _count(side: Side) -> str:
    return "?" if side.compiled_files is None else str(side.compiled_files)


def _side_text(side: Side | None) -> str:
    if side is None:
        return "-"
    text = f"{side.version} {side.kind}"
    if side.compiled_files is not None:
        text += f", {side.compiled_files} compiled ({human_size(side.compiled_bytes)})"
    if side.installed_bytes is not None:
        text += f", {human_size(side.installed_bytes)} installed"
    if side.codes:
        text += f" [{', '.join(side.codes)}]"
    return text


def _what_text(change: Change) -> str:
    a, b = change.a, change.b
    parts = []
    for what in change.what:
        if what == "only_a":
            parts.append("only in A")
        elif what == "only_b":
            parts.append("only in B")
        elif what == "version" and a and b:
            parts.append(f"version {a.version} -> {b.version}")
        elif what == "kind" and a and b:
            parts.append(f"{a.kind} -> {b.kind}")
        elif what == "file" and a and b:
            parts.append(f"{a.platform} -> {b.platform}" if a.platform != b.platform
                         else f"file {a.filename} -> {b.filename}")
        elif what == "compiled" and a and b:
            parts.append(f"compiled files {_count(a)} ({human_size(a.compiled_bytes)}) -> "
                         f"{_count(b)} ({human_size(b.compiled_bytes)})")
        elif what == "installed" and a and b:
            parts.append(f"installed {human_size(a.installed_bytes)} -> "
                         f"{human_size(b.installed_bytes)}")
        elif what == "findings":
            parts.append("findings changed")
    return "; ".join(parts)


def render_diff(changes: Sequence[Change], a_label: str, b_label: str, unchanged: int,
                stream: IO[str]) -> None:
    """The diff as one table (:func:`render.print_table`; no table when nothing differs),
    then the summary line (:func:`summary_line`), e.g. ``1 package differs (0 changed file
    kind, 1 changed file of the same kind), 3 unchanged``."""
    if changes:
        rows = [[c.name, _side_text(c.a), _side_text(c.b), _what_text(c)] for c in changes]
        print_table(("package", "A", "B", "change"), rows, stream,
                    title=f"diff: A = {a_label}, B = {b_label}")
    print(summary_line(changes, unchanged), file=stream)


SUMMARY_ORDER: tuple[tuple[str, str], ...] = (
    ("kind", "changed file kind"),
    ("file", "changed file of the same kind"),
    ("only_a", "only in A"),
    ("only_b", "only in B"),
    ("version", "changed version, same kind"),
    ("compiled", "changed only compiled files"),
    ("findings", "changed only findings"),
)
"""The summary's counts, in order: each changed package is counted once, under the first
of its changes in this order (a new version of another kind counts as ``kind``)."""


def summary_line(changes: Sequence[Change], unchanged: int) -> str:
    """``N package(s) differ(s) (K changed file kind[, F changed file of the same kind]
    [, ...]), U unchanged``: every changed package is counted once, under its first change
    in :data:`SUMMARY_ORDER`, so the counts add up to N; ``file kind`` is always shown,
    the others when not zero."""
    counts = dict.fromkeys((key for key, _ in SUMMARY_ORDER), 0)
    for change in changes:
        first = next((key for key, _ in SUMMARY_ORDER if key in change.what), "findings")
        counts[first] += 1
    counted = ", ".join(f"{counts[key]} {label}" for key, label in SUMMARY_ORDER
                        if key == "kind" or counts[key])
    differ = "1 package differs" if len(changes) == 1 else f"{len(changes)} packages differ"
    return f"{differ} ({counted}), {unchanged} unchanged"


def diff_document(a_path: str, b_path: str, a_target: str | None = None,
                  b_target: str | None = None, mode: str = "warn", started: str = ""
                  ) -> tuple[dict[str, Any], list[Change], str, str, int]:
    """Compare two report files: ``(report JSON, changes, A label, B label, unchanged)``;
    ``started`` is the report's start time (default: now).

    Raises:
        WheelguardError: as :func:`poetry_wheelguard.report.load_report` and
            :func:`packages_for`.
    """
    data_a, data_b = load_report(a_path), load_report(b_path)
    pa, la = packages_for(data_a, a_path, a_target, "--a-target")
    pb, lb = packages_for(data_b, b_path, b_target, "--b-target")
    changes = diff_packages(pa, pb)
    unchanged = len(set(pa) & set(pb)) - sum(1 for c in changes if c.a and c.b)
    doc = Report(command="diff", mode=mode, target=[{"name": la}, {"name": lb}],
                 exit_code=exitcodes.OK, started=started or now_iso(), extra={"diff": {
                     "a": {"path": a_path, "target": la, "command": data_a.get("command")},
                     "b": {"path": b_path, "target": lb, "command": data_b.get("command")},
                     "unchanged": unchanged,
                     "changes": [c.to_json() for c in changes]}}).to_json()
    return doc, changes, la, lb, unchanged
