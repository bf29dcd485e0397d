"""pip requirements files (``pip freeze`` and pip-compile write this format): logical
lines, PEP 508 requirements with their ``--hash`` digests, and the index options
(``--index-url``, ``--extra-index-url``, ``--find-links``, ``--no-index``, nested ``-r``).

Follows pip's ``req_file``: a ``\\`` continues a line, `` #`` starts a comment, and the
requirement runs up to the first word that starts with ``-``.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from packaging.requirements import InvalidRequirement, Requirement

from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.inputs import read_input_text
from poetry_wheelguard.models import NormalizedName
from poetry_wheelguard.report import printable, redact_url


@dataclass(frozen=True)
class PinnedRequirement:
    """One requirement line: the PEP 508 requirement, its ``--hash`` digests, its origin."""

    requirement: Requirement
    hashes: frozenset[str]
    origin: str

    @property
    def name(self) -> NormalizedName:
        """PEP 503 normalized name."""
        return normalize(self.requirement.name)

    @property
    def pin(self) -> str | None:
        """The version of a single ``==V`` (no wildcard) or ``===V`` specifier, else ``None``."""
        specs = list(self.requirement.specifier)
        if len(specs) == 1 and specs[0].operator in {"==", "==="} \
                and not specs[0].version.endswith(".*"):
            return specs[0].version
        return None


@dataclass
class RequirementSet:
    """Requirements plus the index options found in requirements files."""

    requirements: list[PinnedRequirement] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    no_index: bool = False
    # the files being read, outermost first (real paths): a file that includes itself,
    # directly or through others, is an error, not a RecursionError
    reading: list[str] = field(default_factory=list, repr=False, compare=False)


# Nested -r files deeper than this are refused (pip has no bound; a chain this long is a
# generated mistake).
MAX_INCLUDE_DEPTH = 50


def _check_url(value: str, option: str, origin: str) -> str:
    """``value`` when it parses as a URL or a path (an IPv6 typo such as ``http://[::1/``
    does not: one line naming ``origin``)."""
    try:
        urlsplit(value)
    except ValueError as exc:
        raise WheelguardError(f"{option} {printable(redact_url(value))!r} is not a valid URL "
                              f"({exc})", filename=origin) from exc
    return value


_OPTION_WITH_VALUE = {"-i": "index", "--index-url": "index", "--extra-index-url": "extra",
                      "-f": "links", "--find-links": "links", "-r": "req", "--requirement": "req",
                      "-c": "constraint", "--constraint": "constraint",
                      "--trusted-host": "skip", "--only-binary": "skip", "--no-binary": "skip",
                      "--use-feature": "skip"}
_FLAGS = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}


def _logical_lines(text: str) -> Iterable[tuple[int, str]]:
    """pip's ``req_file`` joining: ``\\`` continues a line; `` #`` starts a comment."""
    buf, start = "", 0
    for number, line in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        line = re.sub(r"(^|\s+)#.*$", "", line)
        if line.endswith("\\"):
            buf += line[:-1] + " "
            continue
        buf += line
        if buf.strip():
            yield start, buf.strip()
        buf = ""
    if buf.strip():
        yield start, buf.strip()


def parse_requirement_line(line: str, origin: str, reqs: RequirementSet,
                           base: Path | None = None) -> None:
    """Add one logical line of a requirements file (or one command-line word) to ``reqs``.

    Raises:
        WheelguardError: an invalid requirement, an editable/local/URL requirement (not
            planned: it is built locally), or an unreadable ``-r`` file (names ``origin``).
    """
    # pip's req_file.break_args_options: the requirement runs up to the first word that
    # starts with "-"; the rest are options (shell-split).
    tokens = line.split()
    cut = next((i for i, t in enumerate(tokens) if t.startswith("-")), len(tokens))
    spec = " ".join(tokens[:cut])
    try:
        words = shlex.split(" ".join(tokens[cut:]))
    except ValueError as exc:  # an unbalanced quote: `--hash="abc`
        raise WheelguardError(f"cannot split the options ({exc}); close the quote",
                              filename=origin) from exc
    if not spec:
        if not words:
            return
        head = words[0]
        opt, _, inline = head.partition("=")
        if opt in _OPTION_WITH_VALUE:
            value = inline or (words[1] if len(words) > 1 else "")
            kind = _OPTION_WITH_VALUE[opt]
            if kind == "index":
                reqs.index_url = _check_url(value, opt, origin)
            elif kind == "extra":
                reqs.extra_index_urls.append(_check_url(value, opt, origin))
            elif kind == "links":
                reqs.find_links.append(_check_url(value, opt, origin))
            elif kind == "req":
                if "\x00" in value:
                    raise WheelguardError(f"{opt} {printable(value)!r}: the file name holds a "
                                          "NUL byte", filename=origin)
                read_requirements_file((base or Path.cwd()) / value, reqs)
            return
        if head in _FLAGS:
            reqs.no_index = reqs.no_index or head == "--no-index"
            return
        raise WheelguardError(f"{head} {' '.join(words[1:2])}: local, editable and URL "
                              "requirements are built, not planned; plan their dependencies"
                              if head in {"-e", "--editable"} else
                              f"unknown option {head}", filename=origin)
    if spec.startswith((".", "/")) or ("://" in spec and "@" not in spec.split("://")[0]):
        raise WheelguardError(f"{spec}: local, editable and URL requirements are built, not "
                              "planned; plan their dependencies", filename=origin)
    hashes = set()
    for w in words:
        if w.startswith("--hash="):
            algo, _, digest = w[len("--hash="):].partition(":")
            if algo == "sha256":
                hashes.add(digest.lower())
    try:
        req = Requirement(spec)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise WheelguardError(f"invalid requirement {spec!r} ({first})",
                              filename=origin) from exc
    if req.url:
        raise WheelguardError(f"{req.name} @ URL: direct references are built or downloaded "
                              "as given, not planned", filename=origin)
    reqs.requirements.append(PinnedRequirement(req, frozenset(hashes), origin))


def read_requirements_file(path: Path, reqs: RequirementSet | None = None) -> RequirementSet:
    """Read a requirements file (pip's format, as ``pip freeze`` and pip-compile write it);
    ``-`` is standard input. Only a regular file is read
    (:func:`~poetry_wheelguard.inputs.read_input_text`): a FIFO or a device is refused
    before any byte is read.

    Raises:
        WheelguardError: unreadable, a name with a NUL byte, not a regular file, not UTF-8,
            a file that includes
            itself (directly or through other ``-r`` files), ``-r`` files nested deeper
            than :data:`MAX_INCLUDE_DEPTH`, or an invalid line (names ``file:line``).
    """
    out = reqs if reqs is not None else RequirementSet()
    if "\x00" in str(path):
        raise WheelguardError("the requirements file name holds a NUL byte",
                              filename=printable(str(path)))
    real = str(path) if str(path) == "-" else os.path.realpath(path)
    if real in out.reading:
        chain = " -> ".join([*out.reading[out.reading.index(real):], real])
        raise WheelguardError(f"the requirements file includes itself ({chain}); remove "
                              "the -r line that closes the loop", filename=str(path))
    if len(out.reading) >= MAX_INCLUDE_DEPTH:
        raise WheelguardError(f"-r files nested deeper than {MAX_INCLUDE_DEPTH}",
                              filename=str(path))
    text = read_input_text(path, "requirements file")
    out.reading.append(real)
    try:
        for number, line in _logical_lines(text):
            parse_requirement_line(line, f"{path}:{number}", out, path.parent)
    finally:
        out.reading.pop()
    return out

