"""The facts cache of ``pip-guard verify``: ELF facts kept between runs.

One JSON file (format :data:`poetry_wheelguard.elf.FACTS_FORMAT`) per verified set of
directories, under :func:`cache_file`; ``--no-cache`` runs without one.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from poetry_wheelguard.config import cache_dir
from poetry_wheelguard.elf import (
    FACTS_FORMAT,
    ElfResult,
    read_elf,
    result_from_json,
    result_to_json,
)
from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.report import write_json_atomic


def cache_file(root: str, sites: Sequence[str], executable: str | None) -> Path:
    """The cache file of one verified set: the image root, the site directories (made
    absolute) and the target interpreter, hashed (sha256, 20 hex digits) into a file name
    in :func:`poetry_wheelguard.config.cache_dir` ``("verify")``."""
    import hashlib  # here: its import is a noticeable part of a warm run

    key = json.dumps([root, [os.path.abspath(s) for s in sites], executable])
    return cache_dir("verify") / f"{hashlib.sha256(key.encode()).hexdigest()[:20]}.json"


class FactsCache:
    """ELF facts kept between runs, so a second verify of an unchanged environment reads
    no ELF file again.

    One JSON file per verified set of directories. An entry is keyed by the file's identity
    and state - device, inode, size, modification and change times (``st_ctime`` changes
    with any write, rename or permission change) - so a changed file is read again. The
    magic-byte scan of a distribution is kept under its ``RECORD`` file's identity (every
    installer rewrites ``RECORD`` when it installs). Entries not used by a run are dropped
    when it saves. A missing, unreadable or damaged cache is an empty one.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._facts: dict[str, dict[str, Any]] = {}
        self._scans: dict[str, dict[str, Any]] = {}
        self.used_facts: dict[str, dict[str, Any]] = {}
        self.used_scans: dict[str, dict[str, Any]] = {}
        self.hits = 0
        self.misses = 0
        self._dirty = False
        if path is None:
            return
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            return
        if isinstance(data, dict) and data.get("format") == FACTS_FORMAT:
            self._facts = data.get("facts") or {}
            self._scans = data.get("scans") or {}

    @staticmethod
    def key(st: os.stat_result) -> str:
        """The identity-and-state key of a file's ``stat`` result."""
        return f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}"

    def facts(self, key: str, path: str) -> ElfResult | None:
        """The cached facts under ``key`` (:meth:`key`), given ``path``; ``None`` (a miss)
        when there are none or they do not parse."""
        raw = self._facts.get(key)
        if raw is None:
            self.misses += 1
            return None
        try:
            found = result_from_json(raw)
        except ValueError:
            self.misses += 1
            return None
        self.hits += 1
        self.used_facts[key] = raw
        return replace(found, path=path)

    def read(self, path: str, st: os.stat_result | None = None) -> ElfResult:
        """The facts of ``path`` from the cache, else read (and kept)."""
        try:
            key = FactsCache.key(st or os.stat(path))
        except OSError:
            return read_elf(path)
        found = self.facts(key, path)
        if found is None:
            found = read_elf(path)
            self.store_facts(key, found)
        return found

    def store_facts(self, key: str, result: ElfResult) -> None:
        """Keep ``result`` under ``key`` for :meth:`save`."""
        self.used_facts[key] = result_to_json(result)
        self._dirty = True

    def scan(self, key: str) -> dict[str, Any] | None:
        """The magic-byte scan of a distribution (``{"binaries": {path: kind}}``) under
        its ``RECORD``'s key, ``None`` when not cached."""
        found = self._scans.get(key)
        if found is not None:
            self.used_scans[key] = found
        return found

    def store_scan(self, key: str, binaries: dict[str, str]) -> None:
        """Keep a distribution's scan (``{path: elf|macho|pe}``) under ``key``."""
        self.used_scans[key] = {"binaries": binaries}
        self._dirty = True

    def save(self) -> None:
        """Write the entries this run used (atomically); errors are ignored."""
        if self.path is None:
            return
        if not self._dirty and len(self.used_facts) == len(self._facts) and \
                len(self.used_scans) == len(self._scans):
            return
        with contextlib.suppress(WheelguardError):  # a cache that cannot be written: none
            write_json_atomic(self.path, {"format": FACTS_FORMAT, "facts": self.used_facts,
                                          "scans": self.used_scans})
