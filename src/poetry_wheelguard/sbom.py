"""A CycloneDX 1.6 JSON SBOM of a wheelguard report, written with ``cyclonedx-python-lib``.

One component (type ``library``) per package object of a ``wheelguard-report/1`` document
(docs/report.md), so every command that writes a report can write an SBOM of it:

- ``purl``: ``pkg:pypi/NAME@VERSION?file_name=FILE`` (the purl type ``pypi`` spec: the
  ``file_name`` qualifier names the distribution file), the file as far as the report knows
  it (the chosen file of an install; for an audit, the wheel name rebuilt from ``WHEEL``'s
  tags, or the archive ``direct_url.json`` names);
- ``hashes``: the file's SHA-256 when the report has it (the index's, or the
  ``archive_info`` hash of ``direct_url.json``);
- properties (namespace ``wheelguard:``): ``kind`` (``sdist``, ``pure wheel``, ``platform
  wheel``, ``local build``, ``local project``), ``tag`` (one per PEP 425 tag), ``verdict``,
  ``finding`` (one per warning/error code), and when known ``environment``,
  ``installer``, ``compiled_files``, ``installed_bytes``.

The library is an optional extra (``pip install 'poetry-wheelguard[sbom]'``); without it
:func:`write_sbom` raises one clear line.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.report import write_json_atomic

_PROP = "wheelguard:"
_MISSING = "--sbom needs cyclonedx-python-lib: pip install 'poetry-wheelguard[sbom]'"


def _kind(pkg: Mapping[str, Any]) -> str:
    if pkg.get("first_party"):
        return "local project"
    if pkg.get("built_locally"):
        return "local build"
    if pkg.get("kind") == "sdist":
        return "sdist"
    if pkg.get("kind") is None:
        return "no file"
    return "pure wheel" if pkg.get("pure") else "platform wheel"


def _sha256(pkg: Mapping[str, Any]) -> str | None:
    if isinstance(pkg.get("sha256"), str) and pkg["sha256"]:
        return str(pkg["sha256"])
    verification = pkg.get("verification")
    direct = verification.get("direct_url") if isinstance(verification, Mapping) else None
    info = direct.get("archive_info") if isinstance(direct, Mapping) else None
    hashes = info.get("hashes") if isinstance(info, Mapping) else None
    if isinstance(hashes, Mapping) and isinstance(hashes.get("sha256"), str):
        return str(hashes["sha256"])
    legacy = info.get("hash") if isinstance(info, Mapping) else None
    if isinstance(legacy, str) and legacy.startswith("sha256="):
        return legacy[len("sha256="):]
    return None


def require_library() -> None:
    """Check that ``cyclonedx-python-lib`` is importable (call before the work starts).

    Raises:
        WheelguardError: it is not installed (one line naming the extra to install).
    """
    try:
        importlib.import_module("cyclonedx.output.json")
        importlib.import_module("packageurl")
    except ImportError as exc:
        raise WheelguardError(_MISSING) from exc


def sbom_json(report: Mapping[str, Any]) -> str:
    """The CycloneDX 1.6 JSON text of ``report`` (see the module docstring).

    Raises:
        WheelguardError: ``cyclonedx-python-lib`` is not installed.
    """
    try:
        model: Any = importlib.import_module("cyclonedx.model")
        bom_mod: Any = importlib.import_module("cyclonedx.model.bom")
        comp_mod: Any = importlib.import_module("cyclonedx.model.component")
        output: Any = importlib.import_module("cyclonedx.output.json")
        purl_mod: Any = importlib.import_module("packageurl")
    except ImportError as exc:
        raise WheelguardError(_MISSING) from exc
    bom = bom_mod.Bom()
    tool = report.get("tool") or {}
    bom.metadata.tools.components.add(comp_mod.Component(
        type=comp_mod.ComponentType.APPLICATION, name=str(tool.get("name", "poetry-wheelguard")),
        version=str(tool.get("version", ""))))
    seen: set[str] = set()
    for pkg in report.get("packages") or ():
        if not isinstance(pkg, Mapping):
            continue
        name, version = str(pkg.get("name", "")), str(pkg.get("version", ""))
        filename = str(pkg.get("filename") or "")
        raw = pkg.get("verification")
        verification: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
        env = str(verification.get("environment") or "")
        ref = f"{name}@{version}" + (f"#{env}" if env else "")
        if ref in seen:
            continue
        seen.add(ref)
        props = [("kind", _kind(pkg)), ("verdict", str(pkg.get("verdict", "")))]
        props += [("tag", str(t)) for t in pkg.get("tags") or ()]
        props += [("finding", code) for code in dict.fromkeys(
            str(f.get("code")) for f in pkg.get("findings") or ()
            if isinstance(f, Mapping) and f.get("severity") in ("warning", "error"))]
        for key in ("environment", "installer", "elf_files", "installed_bytes"):
            value = verification.get(key)
            if value is not None and value != "":
                props.append(("compiled_files" if key == "elf_files" else key, str(value)))
        sha = _sha256(pkg)
        component = comp_mod.Component(
            type=comp_mod.ComponentType.LIBRARY, name=name, version=version, bom_ref=ref,
            purl=purl_mod.PackageURL("pypi", name=name, version=version,
                                     qualifiers={"file_name": filename} if filename else None),
            hashes=[model.HashType(alg=model.HashAlgorithm.SHA_256, content=sha)] if sha else [],
            properties=[model.Property(name=_PROP + k, value=v) for k, v in props])
        bom.components.add(component)
    return str(output.JsonV1Dot6(bom).output_as_string(indent=2))


def write_sbom(path: str, report: Mapping[str, Any]) -> None:
    """Write :func:`sbom_json` of ``report`` to ``path`` atomically.

    Raises:
        WheelguardError: as :func:`sbom_json`, or ``path`` cannot be written.
    """
    write_json_atomic(path, json.loads(sbom_json(report)))
