"""pip's own configuration, read through pip's ``Configuration`` class (the pip adapter's
only reader of it; :func:`poetry_wheelguard.index.index_config` takes the values as data).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from poetry_wheelguard.errors import ConfigError
from poetry_wheelguard.index import IndexConfig, index_config


def pip_config_values() -> dict[str, str] | None:
    """pip's configuration as ``{option: value}`` for the ``install`` command (``global``,
    then ``install`` sections, then ``PIP_*`` variables, as pip's option parser applies
    them); ``None`` when pip is not importable."""
    try:
        from pip._internal.configuration import Configuration
        from pip._internal.exceptions import ConfigurationError
    except ImportError:
        return None
    conf = Configuration(isolated=False)
    try:
        conf.load()
    except ConfigurationError as exc:
        raise ConfigError(f"cannot read pip's configuration ({exc})") from exc
    # pip < 26: items() are ("section.key", value); pip 26: (file, {"section.key": value}),
    # files in pip's override order.
    flat: list[tuple[str, object]] = []
    for key, value in conf.items():
        flat.extend(value.items() if isinstance(value, dict) else [(key, value)])
    order = {"global": 0, "install": 1, ":env:": 2}
    values: dict[str, str] = {}
    items = sorted(((k, v) for k, v in flat if "." in k and k.split(".", 1)[0] in order),
                   key=lambda kv: order[kv[0].split(".", 1)[0]])
    for key, value in items:
        values[key.split(".", 1)[1]] = str(value)
    return values


def pip_index_config(
    environ: Mapping[str, str] | None = None,
    *,
    index_url: str | None = None,
    extra_index_urls: Sequence[str] | None = None,
    find_links: Sequence[str] | None = None,
    no_index: bool = False,
    cache_dir: Path | None = None,
    use_pip: bool = True,
) -> IndexConfig:
    """The index configuration pip would use, with command-line values on top:
    :func:`~poetry_wheelguard.index.index_config` with pip's own settings from
    :func:`pip_config_values` (``use_pip`` and pip importable), else from ``environ``'s
    ``PIP_*`` variables.

    Raises:
        ConfigError: pip's configuration cannot be read, or an index URL is not a URL.
    """
    return index_config(environ, pip_values=pip_config_values() if use_pip else None,
                        index_url=index_url, extra_index_urls=extra_index_urls,
                        find_links=find_links, no_index=no_index, cache_dir=cache_dir)
