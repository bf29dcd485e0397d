"""Configuration: ``[tool.wheelguard]`` in pyproject.toml, then ``WHEELGUARD_*``, then flags.

Each later source overrides the earlier one key by key. Keys (TOML name / variable / flag):

============  =======================  ===================  =================================
key           environment              flag                 meaning
============  =======================  ===================  =================================
mode          WHEELGUARD_MODE          --mode               ``warn`` (default) or ``strict``
report        WHEELGUARD_REPORT        --report             path of the JSON report to write
allow-sdist   WHEELGUARD_ALLOW_SDIST   --allow-sdist NAME   projects whose sdist builds pass
allow-pure    WHEELGUARD_ALLOW_PURE    --allow-pure NAME    projects whose pure wheels pass
no-build      WHEELGUARD_NO_BUILD      --no-build           refuse every sdist, expected or not
verify        WHEELGUARD_VERIFY        --no-verify          verify compiled files after install
============  =======================  ===================  =================================

In pyproject.toml, lists are TOML arrays of project names and booleans TOML booleans; in
the environment, lists are separated by commas or white space and booleans are
``1/true/yes/on`` or ``0/false/no/off``. Names must be bare PEP 508 project names; they
are compared PEP 503 normalized.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement

from poetry_wheelguard.distfiles import normalize
from poetry_wheelguard.errors import ConfigError
from poetry_wheelguard.models import NormalizedName

Mode = Literal["warn", "strict"]

KEYS = ("mode", "report", "sbom", "allow-sdist", "allow-pure", "no-build", "verify")


@dataclass(frozen=True)
class Config:
    """The guard's settings after every source has been applied.

    Attributes:
        mode: ``warn`` logs and reports; ``strict`` refuses and exits non-zero.
        report: path of the JSON report, or ``None`` for no report file.
        sbom: path of a CycloneDX 1.6 JSON SBOM of the run (:mod:`poetry_wheelguard.sbom`,
            extra ``sbom``), or ``None``.
        allow_sdist: normalized names whose sdist builds are never refused.
        allow_pure: normalized names whose pure wheels are never refused.
        no_build: refuse every sdist (like pip's ``--only-binary :all:``, but reported).
        verify: run the compiled-file verification after install.
        source: where the settings came from, for messages.
    """

    mode: Mode = "warn"
    report: str | None = None
    sbom: str | None = None
    allow_sdist: frozenset[NormalizedName] = field(default_factory=frozenset)
    allow_pure: frozenset[NormalizedName] = field(default_factory=frozenset)
    no_build: bool = False
    verify: bool = True
    source: tuple[str, ...] = ()

    @property
    def strict(self) -> bool:
        """True in strict mode."""
        return self.mode == "strict"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _mode(value: object, where: str) -> Mode:
    if value == "warn" or value == "strict":
        return value
    raise ConfigError(f"mode must be \"warn\" or \"strict\", not {value!r}", filename=where)


def _names(value: object, where: str, key: str) -> frozenset[NormalizedName]:
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"{key} must be a list of project names, not {value!r}", filename=where)
    for item in value:
        if not _is_project_name(item):
            raise ConfigError(f"{key}: {item!r} is not a project name (PEP 508), e.g. "
                              f'"aiohttp"', filename=where)
    return frozenset(normalize(v) for v in value)


def _is_project_name(text: str) -> bool:
    """True if ``text`` is a bare PEP 508 project name (no version, extras or marker)."""
    try:
        req = Requirement(text)
    except InvalidRequirement:
        return False
    return req.name == text and not (req.specifier or req.extras or req.marker or req.url)


def _split_list(value: str) -> list[str]:
    return [v for v in re.split(r"[,\s]+", value) if v]


def _bool(value: object, where: str, key: str) -> bool:
    if isinstance(value, bool):
        return value
    raise ConfigError(f"{key} must be true or false, not {value!r}", filename=where)


def _env_bool(value: str, var: str) -> bool:
    text = value.strip().lower()
    if text in _TRUE | _FALSE:
        return text in _TRUE
    raise ConfigError(f"{var} must be 1/true/yes/on or 0/false/no/off, not {value!r}",
                      filename="WHEELGUARD_* environment")


def apply_table(base: Config, table: Mapping[str, Any], where: str) -> Config:
    """Return ``base`` updated from a ``[tool.wheelguard]``-shaped mapping (pure).

    Raises:
        ConfigError: an unknown key or a value of the wrong type; names ``where``.
    """
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise ConfigError(
            f"unknown key {unknown[0]!r} in [tool.wheelguard]; known keys: {', '.join(KEYS)}",
            filename=where,
        )
    cfg = base
    if "mode" in table:
        cfg = replace(cfg, mode=_mode(table["mode"], where))
    if "report" in table:
        if not isinstance(table["report"], str):
            raise ConfigError(f"report must be a path string, not {table['report']!r}",
                              filename=where)
        cfg = replace(cfg, report=table["report"] or None)
    if "sbom" in table:
        if not isinstance(table["sbom"], str):
            raise ConfigError(f"sbom must be a path string, not {table['sbom']!r}",
                              filename=where)
        cfg = replace(cfg, sbom=table["sbom"] or None)
    if "allow-sdist" in table:
        cfg = replace(cfg, allow_sdist=_names(table["allow-sdist"], where, "allow-sdist"))
    if "allow-pure" in table:
        cfg = replace(cfg, allow_pure=_names(table["allow-pure"], where, "allow-pure"))
    if "no-build" in table:
        cfg = replace(cfg, no_build=_bool(table["no-build"], where, "no-build"))
    if "verify" in table:
        cfg = replace(cfg, verify=_bool(table["verify"], where, "verify"))
    return replace(cfg, source=(*cfg.source, where))


def env_table(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``WHEELGUARD_*`` variables of ``environ`` as a ``[tool.wheelguard]``-shaped table:
    lists split on commas and white space, booleans from ``1/true/yes/on`` or
    ``0/false/no/off``. ``WHEELGUARD_CONFIG`` (a config path) is not a key and is left out.

    Raises:
        ConfigError: a boolean variable with another value.
    """
    out: dict[str, Any] = {}
    for key in KEYS:
        var = "WHEELGUARD_" + key.upper().replace("-", "_")
        if var not in environ:
            continue
        value = environ[var]
        if key in ("allow-sdist", "allow-pure"):
            out[key] = _split_list(value)
        elif key in ("no-build", "verify"):
            out[key] = _env_bool(value, var)
        else:
            out[key] = value
    return out


def read_pyproject_table(path: Path) -> dict[str, Any] | None:
    """Read ``[tool.wheelguard]`` from a pyproject.toml file; ``None`` if it has none.

    Raises:
        ConfigError: the file cannot be read or is not valid TOML (names the file).
    """
    from poetry_wheelguard._toml import tomllib
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"cannot read config file ({exc.strerror})", filename=str(path)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError("not UTF-8 text; TOML files are UTF-8", filename=str(path)) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"not valid TOML ({exc})", filename=str(path)) from exc
    tool = data.get("tool", {})
    table = tool.get("wheelguard") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        raise ConfigError("[tool.wheelguard] must be a table", filename=str(path))
    return table


def load_config(
    *,
    config_path: str | None = None,
    cwd: Path | None = None,
    environ: Mapping[str, str] | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Config:
    """Resolve the settings: pyproject.toml, then ``WHEELGUARD_*``, then flags.

    ``config_path`` (``--config``, or ``WHEELGUARD_CONFIG``) must exist; without it,
    ``cwd/pyproject.toml`` is read when present. ``flags`` uses the table's key names; a
    ``None`` value means "not given".

    Raises:
        ConfigError: unreadable or invalid file, bad variable or flag value.
    """
    env = os.environ if environ is None else environ
    cfg = Config()
    path_s = config_path or env.get("WHEELGUARD_CONFIG")
    if path_s:
        path = Path(path_s)
        if not path.is_file():
            raise ConfigError("config file not found; pass an existing pyproject.toml",
                              filename=path_s)
    else:
        path = (cwd or Path.cwd()) / "pyproject.toml"
    if path.is_file():
        table = read_pyproject_table(path)
        if table is not None:
            cfg = apply_table(cfg, table, str(path))
    envt = env_table(env)
    if envt:
        cfg = apply_table(cfg, envt, "WHEELGUARD_* environment")
    given = {k: v for k, v in (flags or {}).items() if v is not None}
    if given:
        merged = dict(given)
        for key in ("allow-sdist", "allow-pure"):  # flags add to the lists, not replace
            if key in merged:
                current = cfg.allow_sdist if key == "allow-sdist" else cfg.allow_pure
                merged[key] = sorted(set(current) | set(_names(list(merged[key]), "command line",
                                                                key)))
        cfg = apply_table(cfg, merged, "command line")
    return cfg


def cache_dir(kind: str, environ: Mapping[str, str] | None = None) -> Path:
    """The directory of one of wheelguard's caches, ``kind`` its own subdirectory
    (``index``: index pages; ``verify``: ELF facts): ``$WHEELGUARD_CACHE_DIR/<kind>``, else
    ``$XDG_CACHE_HOME/poetry-wheelguard/<kind>`` (XDG Base Directory spec), else
    ``~/.cache/poetry-wheelguard/<kind>``. ``environ`` defaults to :data:`os.environ`;
    nothing is created."""
    env = os.environ if environ is None else environ
    if env.get("WHEELGUARD_CACHE_DIR"):
        return Path(env["WHEELGUARD_CACHE_DIR"]) / kind
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "poetry-wheelguard" / kind
