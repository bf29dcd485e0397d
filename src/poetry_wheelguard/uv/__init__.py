"""The uv adapter: ``pip-guard uv sync ...`` and ``pip-guard uv pip install ...``.

uv has no plugin or hook API, so the guard judges what uv will install from a lock before
uv runs: the project's uv.lock for ``uv sync``, a pylock.toml uv resolves first for
``uv pip install`` (:mod:`.cli`). The core never imports this package.
"""
