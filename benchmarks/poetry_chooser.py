"""Run Poetry's own ``Chooser`` over a poetry.lock for given targets (run it with the Python
of a venv where Poetry is installed; it imports only Poetry and the standard library).

    python poetry_chooser.py LOCK TARGETS.json

``TARGETS.json``: ``[{"name": ..., "tags": ["cp312-cp312-manylinux_2_36_x86_64", ...],
"packages": ["name==version", ...] (optional: default every locked package)}, ...]``.

Prints one JSON object: ``{"poetry": VERSION, "seconds": S, "choices": {target name:
{"name==version": filename or null}}}``. ``seconds`` (CPU time of this process) covers
reading the lock with Poetry's ``Locker`` and every ``Chooser.choose_for`` call. The links
handed to the Chooser are the lock's own ``files`` with their ``#sha256=`` digests (what
Poetry's repositories return at install time for a lock made from the same index), so
nothing is fetched.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    lock_path, targets_path = Path(argv[0]), Path(argv[1])
    targets = json.loads(targets_path.read_text())

    from packaging.tags import Tag, parse_tag
    from poetry.__version__ import __version__
    from poetry.config.config import Config
    from poetry.core.packages.utils.link import Link
    from poetry.installation.chooser import Chooser
    from poetry.packages.locker import Locker
    from poetry.repositories import Repository, RepositoryPool
    from poetry.utils.env import MockEnv

    class LockLinks(Repository):  # type: ignore[misc]
        def find_links_for_package(self, package: Any) -> list[Any]:
            out = []
            for f in package.files:
                algo, _, digest = str(f["hash"]).partition(":")
                out.append(Link(f"https://files.invalid/{f['file']}#{algo}={digest}"))
            return out

    tag_lists = {t["name"]: [tag for s in t["tags"] for tag in parse_tag(s)] for t in targets}
    started = time.process_time()
    locker = Locker(lock_path, {})
    repo = locker.locked_repository()
    names = {p.source_reference for p in repo.packages if p.source_reference} | {"pypi"}
    pool = RepositoryPool([LockLinks(n) for n in sorted(names)])
    choices: dict[str, dict[str, str | None]] = {}
    config = Config()
    for target in targets:
        tags: list[Tag] = tag_lists[target["name"]]
        env = MockEnv(supported_tags=tags)
        chooser = Chooser(pool, env, config=config)
        wanted = set(target.get("packages") or [])
        got: dict[str, str | None] = {}
        for package in repo.packages:
            key = f"{package.name}=={package.version}"
            if wanted and key not in wanted:
                continue
            try:
                got[key] = chooser.choose_for(package).filename
            except Exception:  # Poetry: "Unable to find installation candidates"
                got[key] = None
        choices[target["name"]] = got
    seconds = time.process_time() - started
    json.dump({"poetry": __version__, "seconds": seconds, "choices": choices}, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
