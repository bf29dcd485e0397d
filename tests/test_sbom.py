"""``--sbom PATH``: a CycloneDX 1.6 JSON SBOM of ``pip-guard install`` (in this very process,
from the local fixture index, into a ``--target`` directory), checked with
``cyclonedx-python-lib``'s own validator. The audit's SBOM is tested in test_audit.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from poetry_wheelguard import cli, exitcodes
from tests.support.index import IndexServer

pytest.importorskip("cyclonedx")


@pytest.fixture(autouse=True)
def _pip_isolation(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """cwd is the test's own directory (the conftest fixture already isolates pip and
    WHEELGUARD_*)."""
    monkeypatch.chdir(tmp_path)
    yield


def test_install_sbom_names_the_file_its_hash_kind_and_findings(
        index_server: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    sbom = tmp_path / "out" / "sbom.json"
    code = cli.main(["--sbom", str(sbom), "install", "--no-cache-dir", "--target",
                     str(tmp_path / "site"), "--index-url", index_server.url, "wg-healthy",
                     "wg-purefallback==1.0"])
    _out, err = capfd.readouterr()
    assert code == exitcodes.OK, err
    text = sbom.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    comps = {c["name"]: c for c in json.loads(text)["components"]}
    assert set(comps) == {"wg-healthy", "wg-puredep", "wg-purefallback"}
    healthy = comps["wg-healthy"]
    assert healthy["purl"] == ("pkg:pypi/wg-healthy@1.0?file_name=wg_healthy-1.0-cp311-cp311-"
                               "manylinux_2_17_x86_64.whl")
    assert healthy["hashes"][0]["alg"] == "SHA-256" and len(healthy["hashes"][0]["content"]) == 64
    props = {c: [(p["name"], p["value"]) for p in comps[c]["properties"]] for c in comps}
    assert ("wheelguard:kind", "platform wheel") in props["wg-healthy"]
    assert ("wheelguard:kind", "pure wheel") in props["wg-purefallback"]
    assert ("wheelguard:finding", "PURE_FALLBACK") in props["wg-purefallback"]
    assert ("wheelguard:verdict", "warn") in props["wg-purefallback"]


def test_install_sbom_without_the_library_fails_before_pip_runs(
        index_server: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cyclonedx.output.json", None)  # as if not installed
    index_server.requests.clear()
    code = cli.main(["--sbom", str(tmp_path / "sbom.json"), "install", "--target",
                     str(tmp_path / "site"), "--index-url", index_server.url, "wg-healthy"])
    _out, err = capfd.readouterr()
    assert code == exitcodes.INPUT_ERROR and "poetry-wheelguard[sbom]" in err
    assert index_server.requests == [] and not (tmp_path / "site").exists()


def test_sbom_from_the_environment_or_pyproject(
        index_server: IndexServer, tmp_path: Path, capfd: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """``sbom`` is a config key like ``report``: WHEELGUARD_SBOM or [tool.wheelguard] (the
    way the Poetry plugin and ``pip-guard uv`` are told), the flag wins."""
    monkeypatch.setenv("WHEELGUARD_SBOM", str(tmp_path / "env.json"))
    code = cli.main(["install", "--no-cache-dir", "--target", str(tmp_path / "site"),
                     "--index-url", index_server.url, "wg-healthy"])
    assert code == exitcodes.OK, capfd.readouterr().err
    comps = {c["name"] for c in json.loads((tmp_path / "env.json").read_text())["components"]}
    assert "wg-healthy" in comps
    monkeypatch.delenv("WHEELGUARD_SBOM")
    (tmp_path / "pyproject.toml").write_text('[tool.wheelguard]\nsbom = "from-pyproject.json"\n')
    code = cli.main(["install", "--no-cache-dir", "--target", str(tmp_path / "site2"),
                     "--index-url", index_server.url, "wg-healthy"])
    assert code == exitcodes.OK, capfd.readouterr().err
    assert (tmp_path / "from-pyproject.json").is_file()
    (tmp_path / "pyproject.toml").write_text("[tool.wheelguard]\nsbom = 5\n")
    code = cli.main(["install", "--target", str(tmp_path / "site3"), "wg-healthy"])
    _out, err = capfd.readouterr()
    assert code == exitcodes.USAGE and "sbom must be a path string" in err
