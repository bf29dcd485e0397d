"""Options every ``pip-guard`` command shares, and the config they resolve to.

Imported by every command module (``cli/*.py``, ``pip/cli.py``) and by nothing in the core.
"""

from __future__ import annotations

import argparse
from typing import Any

from poetry_wheelguard.config import Config, load_config


def add_global_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Add the options every command shares. With ``suppress``, absent options leave no
    attribute, so a command's own parser does not overwrite values given before it."""
    default: Any = argparse.SUPPRESS if suppress else None
    parser.add_argument("--mode", choices=("warn", "strict"), default=default,
                        help="warn: log and report; strict: refuse and exit non-zero")
    parser.add_argument("--report", metavar="PATH", default=default,
                        help="write the JSON report (wheelguard-report/1) to PATH")
    parser.add_argument("--sbom", metavar="PATH", default=default,
                        help="also write a CycloneDX 1.6 JSON SBOM to PATH (install, audit; "
                             "needs the sbom extra)")
    parser.add_argument("--config", metavar="PATH", default=default,
                        help="read [tool.wheelguard] from this pyproject.toml")
    parser.add_argument("--allow-sdist", metavar="NAME", action="append",
                        default=default, help="accept sdist builds of this project")
    parser.add_argument("--allow-pure", metavar="NAME", action="append",
                        default=default, help="accept pure wheels of this project")
    parser.add_argument("--no-build", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="refuse every sdist build, expected or not")
    parser.add_argument("--no-verify", action="store_true",
                        default=argparse.SUPPRESS if suppress else False,
                        help="skip the compiled-file verification after install")


def config_from_namespace(ns: argparse.Namespace) -> Config:
    """Resolve the config from pyproject.toml, ``WHEELGUARD_*`` and the parsed flags.

    Raises:
        ConfigError: as :func:`poetry_wheelguard.config.load_config`.
    """
    flags: dict[str, Any] = {
        "mode": getattr(ns, "mode", None),
        "report": getattr(ns, "report", None),
        "sbom": getattr(ns, "sbom", None),
        "allow-sdist": getattr(ns, "allow_sdist", None),
        "allow-pure": getattr(ns, "allow_pure", None),
        "no-build": True if getattr(ns, "no_build", False) else None,
        "verify": False if getattr(ns, "no_verify", False) else None,
    }
    return load_config(config_path=getattr(ns, "config", None), flags=flags)
