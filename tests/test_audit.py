"""``pip-guard audit``: images written here as files (OCI layouts, OCI and docker-archive
tarballs) from real trees - the ELF fixture sysroots and distributions installed into them
- with whiteouts, opaque directories, hard links, symbolic links and hostile members; then
the same checks against images a real Docker engine builds from docs/docker.md
(``docker`` marker)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.utils import canonicalize_name

from poetry_wheelguard import exitcodes
from poetry_wheelguard.cli import main
from poetry_wheelguard.image.layers import (
    ImageError,
    Limits,
    _in_root_link,
    apply_layers,
    open_image,
)
from poetry_wheelguard.report import schema_path
from tests.support.elffix import elf_fixtures, make_dist
from tests.support.images import (
    Member,
    oci_image,
    tar_directory,
    tar_members,
    tar_tree,
    write_docker_archive,
    write_oci_layout,
)

GNU = ".cpython-311-x86_64-linux-gnu.so"
MUSL = ".cpython-311-x86_64-linux-musl.so"
SITE = "usr/lib/python3.11/site-packages"
VENV_SITE = "app/.venv/lib/python3.11/site-packages"
MUSL_TAG = ("cp311-cp311-musllinux_1_2_x86_64",)


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out + out.err


def audit(target: Path | str, capsys: pytest.CaptureFixture[str], report: Path,
          *extra: str) -> tuple[int, str, dict[str, Any]]:
    code, out = run(["--report", str(report), "audit", str(target), *extra], capsys)
    data = json.loads(report.read_text()) if report.exists() else {}
    if data:
        jsonschema.validate(data, json.loads(schema_path().read_text()))
    return code, out, data


def by_name(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f"{p['verification']['environment']}:{p['name']}": p for p in data["packages"]}


def codes(pkg: dict[str, Any]) -> set[str]:
    return {f["code"] for f in pkg["findings"] if f["severity"] in ("warning", "error")}


def record_size(dist_info: Path) -> int:
    site = dist_info.parent
    rows = [line.split(",")[0] for line in (dist_info / "RECORD").read_text().splitlines()]
    return sum(os.path.getsize(site / r) for r in rows if not os.path.islink(site / r))


def base_layer(sysroot: str = "sysroot-glibc228-x86_64") -> bytes:
    return tar_tree(elf_fixtures() / sysroot)


@pytest.fixture()
def app_tree(tmp_path: Path) -> Path:
    """The second layer's tree: a system site-packages with a healthy extension and one
    that needs a newer glibc, a venv with a pure distribution."""
    tree = tmp_path / "tree"
    fx = elf_fixtures() / "gnu-x86_64"
    make_dist(tree / SITE, "wg-healthy", {f"wg_healthy/healthy{GNU}": fx / "healthy.so",
                                          "wg_healthy/__init__.py": b"x = 1\n" * 100})
    make_dist(tree / SITE, "wg-new", {f"wg_new/glibc229{GNU}": fx / "glibc229.so"})
    venv = tree / "app" / ".venv"
    make_dist(tree / VENV_SITE, "wg-pure", {"wg_pure/__init__.py": b"y = 2\n"},
              tags=("py3-none-any",), installer="uv")
    (venv / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.11.2\n")
    return tree


def test_oci_layout_environments_sizes_and_findings(
        tmp_path: Path, app_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layout = write_oci_layout(tmp_path / "oci", [oci_image([base_layer(), tar_tree(app_tree)])])
    code, out, data = audit(layout, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    pkgs = by_name(data)
    assert set(pkgs) == {"/usr:wg-healthy", "/usr:wg-new", "/app/.venv:wg-pure"}
    healthy = pkgs["/usr:wg-healthy"]["verification"]
    assert healthy["installed_bytes"] == record_size(
        next((app_tree / SITE).glob("wg_healthy-*.dist-info")))
    assert healthy["elf_files"] == 1 and healthy["elf_bytes"] == os.path.getsize(
        elf_fixtures() / "gnu-x86_64/healthy.so")
    assert healthy["dist_info"] == f"/{SITE}/wg_healthy-1.0.dist-info"
    assert codes(pkgs["/usr:wg-healthy"]) == set()
    new = pkgs["/usr:wg-new"]
    assert codes(new) == {"SYMBOL_VERSION"}
    assert all(not f.get("path", "/").startswith(("/tmp", "/var")) for f in new["findings"])
    assert "GLIBC_2.29" in out
    pure = pkgs["/app/.venv:wg-pure"]["verification"]
    assert pure["installer"] == "uv" and pure["elf_files"] == 0
    envs = {e["prefix"]: e for e in data["audit"]["environments"]}
    assert envs["/app/.venv"]["kind"] == "venv" and envs["/usr"]["kind"] == "system"
    assert envs["/usr"]["libc"] == "glibc 2.28"
    assert data["command"] == "audit" and data["audit"]["layers"] == 2
    # only what verify reads was written: not the .py files of the distributions
    assert data["audit"]["extracted_files"] < data["audit"]["members"]

    code, out, _ = audit(layout, capsys, tmp_path / "s.json", "--package", "wg-new")
    assert "wg-healthy" not in out
    code, out = run(["--mode", "strict", "audit", str(layout)], capsys)
    assert code == exitcodes.VERIFY_ERRORS


def test_whiteouts_and_opaque_directories(tmp_path: Path, app_tree: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """Layer 3 deletes wg-new (whiteouts of its package and dist-info) and replaces the
    venv's site-packages (opaque whiteout): what layer 3 itself writes there stays, even
    when the marker comes after it in the stream."""
    third = tmp_path / "third"
    make_dist(third / VENV_SITE, "wg-after", {"wg_after/__init__.py": b""},
              tags=("py3-none-any",))
    layer3 = tar_tree(third, [
        Member(f"{SITE}/.wh.wg_new-1.0.dist-info"), Member(f"{SITE}/.wh.wg_new"),
        Member(f"{VENV_SITE}/.wh..wh..opq")])
    layout = write_oci_layout(tmp_path / "oci", [oci_image(
        [base_layer(), tar_tree(app_tree), layer3])])
    code, out, data = audit(layout, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    assert set(by_name(data)) == {"/usr:wg-healthy", "/app/.venv:wg-after"}


def test_hard_links_and_symbolic_links_resolve_inside_the_image(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An extension that is a hard link to another member, one that is an absolute symbolic
    link (resolved in the image root, not on the host), and a merged-/usr style ``lib``
    link that a later member's path goes through."""
    fx = elf_fixtures() / "gnu-x86_64"
    tree = tmp_path / "tree"
    shared = tree / "opt" / "shared"
    shared.mkdir(parents=True)
    shutil.copyfile(fx / "healthy.so", shared / "healthy.so")
    site = tree / SITE
    make_dist(site, "wg-hl", {f"wg_hl/healthy{GNU}": b""})
    os.unlink(site / f"wg_hl/healthy{GNU}")
    os.link(shared / "healthy.so", site / f"wg_hl/healthy{GNU}")
    make_dist(site, "wg-sym", {f"wg_sym/healthy{GNU}": b""})
    os.unlink(site / f"wg_sym/healthy{GNU}")
    os.symlink("/opt/shared/healthy.so", site / f"wg_sym/healthy{GNU}")
    layer = tar_tree(tree, [Member("opt/via", "symlink", link="/opt/shared"),
                            Member("opt/via/extra.txt", data=b"through a link")])
    with tarfile.open(fileobj=io.BytesIO(layer)) as tar:
        kinds = {m.name: m.type for m in tar.getmembers()}
    assert kinds[f"{SITE}/wg_hl/healthy{GNU}"] == tarfile.LNKTYPE  # a real hard link member
    layout = write_oci_layout(tmp_path / "oci", [oci_image([base_layer(), layer], "none")])
    code, out, data = audit(layout, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    pkgs = by_name(data)
    for name in ("/usr:wg-hl", "/usr:wg-sym"):
        assert pkgs[name]["verification"]["elf_files"] == 1, name
        assert codes(pkgs[name]) == set()
    assert pkgs["/usr:wg-hl"]["verification"]["installed_bytes"] >= os.path.getsize(
        fx / "healthy.so")

    with contextlib.ExitStack() as stack:
        image = open_image(str(layout), stack, str(tmp_path))
        applied = apply_layers(image, str(tmp_path / "root"))
    assert (tmp_path / "root/opt/shared/extra.txt").exists() is False  # not a wanted file
    assert applied.size_of(str(tmp_path / "root/opt/shared/extra.txt")) == 14
    link = os.readlink(tmp_path / f"root/{SITE}/wg_sym/healthy{GNU}")
    assert not link.startswith("/") and os.path.realpath(
        tmp_path / f"root/{SITE}/wg_sym/healthy{GNU}").startswith(str(tmp_path / "root"))
    assert _in_root_link(["usr", "lib"], "../../../../etc/x") == "../../etc/x"


def test_docker_archive_and_oci_tarball_read_the_same(
        tmp_path: Path, app_tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    layers = [base_layer(), tar_tree(app_tree)]
    layout = write_oci_layout(tmp_path / "oci", [oci_image(layers)])
    seen = []
    for target in (layout, tar_directory(layout, tmp_path / "oci.tar"),
                   write_docker_archive(tmp_path / "docker.tar", layers)):
        code, out, data = audit(target, capsys, tmp_path / f"{target.name}.json")
        assert code == exitcodes.OK, out
        seen.append({k: (codes(p), p["verification"]["installed_bytes"])
                     for k, p in by_name(data).items()})
    assert seen[0] == seen[1] == seen[2] and len(seen[0]) == 3


def test_rootfs_directory(tmp_path: Path, app_tree: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "root"
    shutil.copytree(elf_fixtures() / "sysroot-glibc228-x86_64", root, symlinks=True)
    shutil.copytree(app_tree, root, symlinks=True, dirs_exist_ok=True)
    make_dist(root / "opt/extra/python3.11/site", "wg-extra",
              {"wg_extra/__init__.py": b""}, tags=("py3-none-any",))
    # Debian's versionless dist-packages joins its prefix's environment; alone under a
    # prefix, with no python3.X binary in this root to tell its version, it is skipped
    make_dist(root / "usr/lib/python3/dist-packages", "wg-debian",
              {"wg_debian/__init__.py": b""}, tags=("py3-none-any",))
    make_dist(root / "srv/lib/python3/dist-packages", "wg-unknown",
              {"wg_unknown/__init__.py": b""}, tags=("py3-none-any",))
    code, out, data = audit(root, capsys, tmp_path / "r.json", "--path",
                            "/opt/extra/python3.11/site")
    assert code == exitcodes.OK, out
    assert codes(by_name(data)["/usr:wg-new"]) == {"SYMBOL_VERSION"}
    assert data["audit"]["source"] == "rootfs"
    assert "/opt/extra/python3.11/site:wg-extra" in by_name(data)
    assert "/usr:wg-debian" in by_name(data)
    assert f"note: skipped: {root} /srv: cannot tell the Python version" in out, out
    code, out = run(["audit", str(root), "--path", "/no/such/site"], capsys)
    assert code == exitcodes.INPUT_ERROR and "--path: not a directory in the image" in out


def test_platform_of_a_multi_platform_index(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    amd = tmp_path / "amd"
    make_dist(amd / SITE, "wg-healthy",
              {f"wg_healthy/healthy{GNU}": elf_fixtures() / "gnu-x86_64/healthy.so"})
    arm = tmp_path / "arm"
    make_dist(arm / "usr/lib/python3.12/site-packages", "wg-healthy",
              {"wg_healthy/healthy.cpython-312-aarch64-linux-gnu.so":
               elf_fixtures() / "gnu-aarch64/healthy.so"},
              tags=("cp312-cp312-manylinux_2_17_aarch64",))
    layout = write_oci_layout(tmp_path / "oci", [
        oci_image([base_layer(), tar_tree(amd)]),
        oci_image([base_layer("sysroot-glibc228-aarch64"), tar_tree(arm)],
                  platform=("linux", "arm64"))], nested_index=True)
    code, out, data = audit(layout, capsys, tmp_path / "a.json", "--platform", "linux/arm64")
    assert code == exitcodes.OK, out
    assert data["target"][0]["machine"] == "aarch64" and data["audit"]["platform"] == \
        "linux/arm64"
    assert codes(data["packages"][0]) == set()
    code, out, data = audit(layout, capsys, tmp_path / "b.json")
    assert data["target"][0]["machine"] == "x86_64"
    code, out = run(["audit", str(layout), "--platform", "linux/s390x"], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1
    assert "no image for --platform linux/s390x (the index has linux/amd64, linux/arm64)" in out


def test_musl_extension_in_a_glibc_image_and_diff_of_two_audits(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The same requirement in a glibc and a musl image; then a musl build's extension
    copied into the glibc image: LIBC_MISMATCH for that file."""
    gnu, musl = tmp_path / "gnu", tmp_path / "musl"
    make_dist(gnu / SITE, "wg-healthy",
              {f"wg_healthy/healthy{GNU}": elf_fixtures() / "gnu-x86_64/healthy.so"})
    make_dist(musl / SITE, "wg-healthy",
              {f"wg_healthy/healthy{MUSL}": elf_fixtures() / "musl-x86_64/healthy.so"},
              tags=MUSL_TAG)
    a = write_oci_layout(tmp_path / "a", [oci_image([base_layer(), tar_tree(gnu)])])
    b = write_oci_layout(tmp_path / "b", [oci_image(
        [base_layer("sysroot-musl-x86_64"), tar_tree(musl)])])
    assert audit(a, capsys, tmp_path / "a.json")[0] == exitcodes.OK
    code, out, data = audit(b, capsys, tmp_path / "b.json")
    assert code == exitcodes.OK and codes(data["packages"][0]) == set(), out
    code, out = run(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json")], capsys)
    assert code == exitcodes.OK
    assert "manylinux_2_17_x86_64 -> musllinux_1_2_x86_64" in out
    assert "; installed " in out, out
    a_size = by_name(json.loads((tmp_path / "a.json").read_text()))["/usr:wg-healthy"][
        "verification"]["installed_bytes"]
    code, out = run(["diff", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--json"],
                    capsys)
    change = json.loads(out)["diff"]["changes"][0]
    assert {"file", "compiled", "installed"} <= set(change["changes"])
    assert change["a"]["installed_bytes"] == a_size != change["b"]["installed_bytes"]

    bad = tmp_path / "bad"
    make_dist(bad / SITE, "wg-musl", {f"wg_musl/healthy{GNU}":
                                      elf_fixtures() / "musl-x86_64/healthy.so"})
    c = write_oci_layout(tmp_path / "c", [oci_image([base_layer(), tar_tree(gnu),
                                                     tar_tree(bad)])])
    code, out, data = audit(c, capsys, tmp_path / "c.json")
    pkgs = by_name(data)
    assert "LIBC_MISMATCH" in codes(pkgs["/usr:wg-musl"]) and \
        codes(pkgs["/usr:wg-healthy"]) == set()


def test_zstd_layers(tmp_path: Path, app_tree: Path, capsys: pytest.CaptureFixture[str],
                     monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("zstandard")
    layout = write_oci_layout(tmp_path / "oci", [oci_image(
        [base_layer(), tar_tree(app_tree)], "zstd")])
    code, out, data = audit(layout, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK and len(data["packages"]) == 3, out
    blob = max((layout / "blobs/sha256").iterdir(), key=lambda p: p.stat().st_size)
    whole = blob.read_bytes()
    blob.write_bytes(whole[: len(whole) // 2])
    code, out = run(["audit", str(layout)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1, out
    assert "truncated or corrupt layer" in out, out
    blob.write_bytes(whole)
    monkeypatch.setitem(sys.modules, "zstandard", None)  # as if not installed
    code, out = run(["audit", str(layout)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1
    assert "layer 1 of 2" in out and "poetry-wheelguard[zstd]" in out


# --- hostile and broken images: one line each, naming the file and the layer -------------

def _layout_with(tmp_path: Path, members: list[Member]) -> Path:
    return write_oci_layout(tmp_path / "oci", [oci_image([base_layer(),
                                                          tar_members(members)])])


@pytest.mark.parametrize(("members", "phrase"), [
    ([Member("../../escaped", data=b"x")], "member path escapes the image root (..)"),
    ([Member("/etc/escaped", data=b"x")], "absolute member path"),
    ([Member("a", "symlink", link="b"), Member("b", "symlink", link="/a"),
      Member("a/x", data=b"x")], "symbolic link loop: a/x"),
    ([Member("x/y.so", "hardlink", link="nowhere/lib.so")], "hard link to nowhere/lib.so"),
])
def test_hostile_members(tmp_path: Path, members: list[Member], phrase: str,
                         capsys: pytest.CaptureFixture[str]) -> None:
    layout = _layout_with(tmp_path, members)
    code, out = run(["audit", str(layout)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1, out
    assert f"{layout}: layer 2 of 2 (sha256:" in out and phrase in out, out
    assert not (tmp_path / "escaped").exists()


def test_digest_mismatch_and_truncated_layers(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    layout = _layout_with(tmp_path, [Member("etc/motd", data=b"hello\n" * 1000)])
    manifest = json.loads(next(
        p.read_bytes() for p in (layout / "blobs/sha256").iterdir()
        if b'"layers": [' in p.read_bytes()))
    blob = layout / "blobs/sha256" / manifest["layers"][1]["digest"].split(":")[1]
    original = blob.read_bytes()
    import gzip

    blob.write_bytes(gzip.compress(tar_members([Member("etc/motd", data=b"other\n")])))
    code, out = run(["audit", str(layout)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1
    assert "layer 2 of 2" in out and "digest mismatch" in out, out
    blob.write_bytes(original[: len(original) // 2])
    code, out = run(["audit", str(layout)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1
    assert "layer 2 of 2" in out and "truncated or corrupt layer" in out, out


def test_tar_bombs(tmp_path: Path) -> None:
    layout = _layout_with(tmp_path, [Member("zeros", data=bytes(8 << 20))])
    with contextlib.ExitStack() as stack:
        image = open_image(str(layout), stack, str(tmp_path))
        with pytest.raises(ImageError, match=r"layer 2 of 2 .*tar bomb: \d+ bytes from"):
            apply_layers(image, str(tmp_path / "r1"), Limits(max_ratio=50, ratio_floor=1 << 20))
        with pytest.raises(ImageError, match="tar bomb: more than 3 members"):
            apply_layers(image, str(tmp_path / "r2"), Limits(max_members=3))
        # the defaults take it as an ordinary layer
        assert apply_layers(image, str(tmp_path / "r3")).members > 3


@pytest.mark.parametrize("make", ["text", "layout-without-index", "tar-without-manifest"])
def test_not_an_image(tmp_path: Path, make: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "target"
    if make == "text":
        target.write_text("not an image\n")
    elif make == "layout-without-index":
        target.mkdir()
        (target / "oci-layout").write_text("{}")
    else:
        with tarfile.open(target, "w") as tar:
            info = tarfile.TarInfo("hello.txt")
            tar.addfile(info, io.BytesIO(b""))
    code, out = run(["audit", str(target)], capsys)
    assert code == exitcodes.INPUT_ERROR and len(out.strip().splitlines()) == 1, out
    assert str(target) in out and "not an image" in out


# --- a real Docker engine: the recipes of docs/docker.md, built from their text ----------

DEBIAN_OK = b"pyyaml==6.0.2\nmarkupsafe==3.0.2\n"


@dataclass
class DockerLayer:
    """The engine, the base images, the guard's wheel, the Debian recipe's image."""

    work: Path
    debian: str
    wheel: Path
    recipes: dict[str, str]
    built: dict[str, str]


@pytest.fixture(scope="module")
def docker_layer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DockerLayer]:
    from tests.support import docker as d
    from tests.support.musl import build_project_wheel

    work = tmp_path_factory.mktemp("docker")
    try:
        with d.engine(work):
            debian = d.debian_base()
            wheel = build_project_wheel(work / "wheels")
            yield DockerLayer(work, debian, wheel, d.recipes(), {})
    except d.DockerUnavailable as exc:
        d.unavailable(str(exc))


def _context(layer: DockerLayer, name: str, files: dict[str, bytes]) -> dict[str, bytes]:
    from tests.support.docker import egress_certs

    return {**egress_certs(), f"wheels/{layer.wheel.name}": layer.wheel.read_bytes(), **files}


def _debian_image(layer: DockerLayer) -> str:
    from tests.support.docker import build

    if "debian-pip" not in layer.built:
        result = build(layer.work / "ctx-debian", layer.recipes["debian-pip"],
                       "wg-recipe-debian-pip", {"BASE": layer.debian},
                       files=_context(layer, "debian-pip", {"requirements.txt": DEBIAN_OK}))
        assert result.returncode == 0, result.output[-3000:]
        layer.built["debian-pip"] = "wg-recipe-debian-pip"
    return layer.built["debian-pip"]


def _pip_list(image: str) -> dict[str, str]:
    from tests.support.docker import docker

    proc = docker("run", "--rm", image, "/app/.venv/bin/python", "-m", "pip", "list",
                  "--format=json", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return {canonicalize_name(p["name"]): p["version"] for p in json.loads(proc.stdout)}


def test_docs_recipes_are_complete() -> None:
    """Every recipe of docs/docker.md takes its base image as a build argument, has a
    builder stage with a strict guard step and a final stage on the same base."""
    from tests.support.docker import recipes

    found = recipes()
    assert set(found) == {"debian-pip", "debian-poetry", "alpine-pip"}
    for name, text in found.items():
        lines = text.splitlines()
        assert lines[1].startswith("ARG BASE=python:3.12-"), name
        assert lines[2] == "FROM ${BASE} AS build", name
        assert "FROM ${BASE}" in lines[3:] and "COPY --from=build /app/.venv /app/.venv" in text
        assert "pip-guard --mode strict install" in text or "WHEELGUARD_MODE=strict" in text


@pytest.mark.docker
@pytest.mark.network  # the builds install from the public index
def test_debian_recipe_passes_strict_and_its_audit_has_no_finding(
        docker_layer: DockerLayer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = _debian_image(docker_layer)
    code, out, data = audit(f"docker:{image}", capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    assert all(codes(p) == set() for p in data["packages"]), out
    pkgs = {p["name"]: p for p in data["packages"]
            if p["verification"]["environment"] == "/app/.venv"}
    assert {n: p["version"] for n, p in pkgs.items()} == _pip_list(image)
    assert pkgs["pyyaml"]["verification"]["elf_files"] >= 1
    assert all(p["verification"]["installed_bytes"] > 0 for p in pkgs.values())
    # strict mode: still nothing to refuse
    code, out = run(["--mode", "strict", "audit", f"docker:{image}"], capsys)
    assert code == exitcodes.OK, out


@pytest.mark.docker
@pytest.mark.network  # the builds install from the public index
def test_engine_whiteouts_opaque_dirs_and_a_musl_extension(
        docker_layer: DockerLayer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A layer that uninstalls markupsafe (whiteouts) and re-creates yaml/ (an opaque
    directory on overlay2) is audited as ``docker run ... pip list`` shows the image; a
    musl build's extension copied over pyyaml's is LIBC_MISMATCH."""
    from tests.support.docker import build, docker

    base = _debian_image(docker_layer)
    site = "/app/.venv/lib/python3.11/site-packages"
    dockerfile = (f"FROM {base}\nRUN /app/.venv/bin/pip uninstall -q -y markupsafe && "
                  f"rm -rf {site}/yaml && mkdir {site}/yaml && touch {site}/yaml/__init__.py\n")
    result = build(tmp_path / "ctx", dockerfile, "wg-test-whiteouts", {})
    assert result.returncode == 0, result.output[-2000:]
    saved = tmp_path / "saved.tar"
    assert docker("save", "-o", str(saved), "wg-test-whiteouts").returncode == 0
    with tarfile.open(saved) as outer:
        last = [m for m in outer.getmembers() if m.name.endswith("layer.tar")]
        names = set()
        for m in last:
            fh = outer.extractfile(m)
            assert fh is not None
            with tarfile.open(fileobj=fh) as inner:
                names |= {n for n in inner.getnames() if "/.wh." in n}
    assert any(n.endswith("yaml/.wh..wh..opq") for n in names), names
    assert any(".wh.markupsafe" in n.lower() for n in names), names
    code, out, data = audit(saved, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    pkgs = {p["name"]: p for p in data["packages"]}
    assert {n: p["version"] for n, p in pkgs.items()
            if p["verification"]["environment"] == "/app/.venv"} == _pip_list("wg-test-whiteouts")
    assert "markupsafe" not in pkgs and pkgs["pyyaml"]["verification"]["elf_files"] == 0

    musl_so = (elf_fixtures() / "musl-x86_64/healthy.so").read_bytes()
    target = f"{site}/_yaml_musl.cpython-311-x86_64-linux-gnu.so"
    result = build(tmp_path / "ctx2", f"FROM {base}\nCOPY musl.so {target}\n",
                   "wg-test-muslext", {}, files={"musl.so": musl_so})
    assert result.returncode == 0, result.output[-2000:]
    # the file joins pyyaml's RECORD as an installer would have written it
    record = f"{site}/PyYAML-6.0.2.dist-info/RECORD"
    result = build(tmp_path / "ctx3", f"FROM wg-test-muslext\nRUN echo "
                   f"'_yaml_musl.cpython-311-x86_64-linux-gnu.so,,' >> {record}\n",
                   "wg-test-muslext2", {})
    assert result.returncode == 0, result.output[-2000:]
    code, out, data = audit("docker:wg-test-muslext2", capsys, tmp_path / "m.json")
    pkgs = {p["name"]: p for p in data["packages"]}
    assert "LIBC_MISMATCH" in codes(pkgs["pyyaml"]), out
    assert any(f["code"] == "LIBC_MISMATCH" and f.get("path", "").endswith(
        "_yaml_musl.cpython-311-x86_64-linux-gnu.so") for f in pkgs["pyyaml"]["findings"])
    assert codes(pkgs["markupsafe"]) == set()


@pytest.mark.docker
@pytest.mark.network  # the builds install from the public index
def test_debian_recipe_with_aiohttp_362_fails_at_the_guard_step(
        docker_layer: DockerLayer) -> None:
    from tests.support.docker import build

    result = build(docker_layer.work / "ctx-aiohttp", docker_layer.recipes["debian-pip"],
                   "wg-recipe-aiohttp", {"BASE": docker_layer.debian},
                   files=_context(docker_layer, "debian-pip",
                                  {"requirements.txt": b"aiohttp==3.6.2\n"}))
    assert result.returncode != 0
    m = re.search(r"The command '/bin/sh -c (.*)' returned a non-zero code: (\d+)|"
                  r"process \"/bin/sh -c (.*)\" did not complete successfully: exit code: "
                  r"(\d+)", result.output)
    assert m, result.output[-3000:]
    command, code = (m[1], m[2]) if m[1] else (m[3], m[4])
    assert "pip-guard --mode strict install" in command and int(code) == exitcodes.REFUSED


@pytest.mark.docker
@pytest.mark.network  # the builds install from the public index
@pytest.mark.musl
def test_alpine_recipe_uvloop_sdist_build_and_diff_against_debian(
        docker_layer: DockerLayer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.support import docker as d
    from tests.support.musl import ARCHIVE_NAME, pypi_proxy_server, shared_dir

    try:
        musl = d.musl_base(shared_dir() / "musl-cpython" / ARCHIVE_NAME, docker_layer.work)
    except d.DockerUnavailable as exc:
        d.unavailable(str(exc))
    with pypi_proxy_server(tmp_path / "proxy") as index:
        args = {"BASE": musl, "PIP_INDEX_URL": index, "PIP_TRUSTED_HOST": "127.0.0.1"}
        recipe = docker_layer.recipes["alpine-pip"]
        bad = d.build(tmp_path / "ctx-uvloop", recipe, "wg-recipe-uvloop", args,
                      files=_context(docker_layer, "alpine-pip",
                                     {"requirements.txt": b"uvloop==0.16.0\n"}),
                      network_host=True)
        assert bad.returncode != 0 and "SDIST_BUILD" in bad.output, bad.output[-3000:]
        assert re.search(r"non-zero code: 10|exit code: 10", bad.output), bad.output[-2000:]
        good = d.build(tmp_path / "ctx-alpine", recipe, "wg-recipe-alpine", args,
                       files=_context(docker_layer, "alpine-pip",
                                      {"requirements.txt": DEBIAN_OK}), network_host=True)
        assert good.returncode == 0, good.output[-3000:]
    code, out, data = audit("docker:wg-recipe-alpine", capsys, tmp_path / "alpine.json")
    assert code == exitcodes.OK and all(codes(p) == set() for p in data["packages"]), out
    assert data["audit"]["environments"][0]["libc"].startswith("musl")
    code, out, _ = audit(f"docker:{_debian_image(docker_layer)}", capsys,
                         tmp_path / "debian.json")
    code, out = run(["diff", str(tmp_path / "debian.json"), str(tmp_path / "alpine.json")],
                    capsys)
    assert code == exitcodes.OK
    assert re.search(r"pyyaml .*manylinux_2_17_x86_64 -> musllinux_1_\d_x86_64", out), out
    assert "installed " in out and "compiled files" in out


@pytest.mark.docker
@pytest.mark.network  # the builds install from the public index
@pytest.mark.poetry
def test_debian_poetry_recipe_passes_strict(docker_layer: DockerLayer, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The Poetry recipe: a lock written by real Poetry here, installed by Poetry and the
    plugin in the builder stage (strict), audited with no finding."""
    from tests.support.docker import build
    from tests.support.poetry import PoetryProject, poetry_venv, write_project

    version = re.search(r"poetry==([\d.]+)", docker_layer.recipes["debian-poetry"])
    assert version
    project = write_project(tmp_path / "project", dependencies={
        "pyyaml": "6.0.2", "markupsafe": "3.0.2"}, index_url=None, python=">=3.11,<3.12")
    lock = PoetryProject(project, version[1], poetry_venv(version[1]),
                         tmp_path / "poetry-cache").poetry("lock")
    assert lock.returncode == 0, lock.output
    result = build(tmp_path / "ctx", docker_layer.recipes["debian-poetry"],
                   "wg-recipe-debian-poetry", {"BASE": docker_layer.debian},
                   files=_context(docker_layer, "debian-poetry", {
                       "pyproject.toml": (project / "pyproject.toml").read_bytes(),
                       "poetry.lock": (project / "poetry.lock").read_bytes()}))
    assert result.returncode == 0, result.output[-3000:]
    code, out, data = audit("docker:wg-recipe-debian-poetry", capsys, tmp_path / "r.json",
                            "--mode", "strict")
    assert code == exitcodes.OK, out
    pkgs = {p["name"]: p for p in data["packages"]}
    assert {"pyyaml", "markupsafe"} <= set(pkgs) and all(
        codes(p) == set() for p in pkgs.values()), out
    assert pkgs["pyyaml"]["verification"]["installer"].startswith("Poetry ")  # "Poetry 2.5.1"
    assert pkgs["pyyaml"]["verification"]["environment"] == "/app/.venv"


def test_sbom_of_an_audit(tmp_path: Path, app_tree: Path,
                          capsys: pytest.CaptureFixture[str]) -> None:
    """``audit --sbom``: CycloneDX 1.6 JSON, valid by the library's own validator, one
    component per distribution per environment with its purl, kind, tags, findings."""
    pytest.importorskip("cyclonedx")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    site = app_tree / VENV_SITE
    make_dist(site, "wg-archive", {"wg_archive/__init__.py": b""}, tags=("py3-none-any",),
              direct_url={"url": "https://user:secret@files.example/wg_archive-1.0-py3-none-"
                                 "any.whl", "archive_info": {"hashes": {"sha256": "ab" * 32}}})
    layout = write_oci_layout(tmp_path / "oci", [oci_image([base_layer(), tar_tree(app_tree)])])
    sbom = tmp_path / "sbom.json"
    code, out = run(["audit", str(layout), "--sbom", str(sbom)], capsys)
    assert code == exitcodes.OK, out
    text = sbom.read_text()
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    assert "secret" not in text
    doc = json.loads(text)
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.6"
    comps = {c["name"]: c for c in doc["components"]}
    assert set(comps) == {"wg-healthy", "wg-new", "wg-pure", "wg-archive"}
    props = {c: [(p["name"], p["value"]) for p in comps[c]["properties"]] for c in comps}
    assert comps["wg-healthy"]["purl"] == ("pkg:pypi/wg-healthy@1.0?file_name=wg_healthy-1.0-"
                                           "cp311-cp311-manylinux_2_17_x86_64.whl")
    assert ("wheelguard:kind", "platform wheel") in props["wg-healthy"]
    assert ("wheelguard:tag", "cp311-cp311-manylinux_2_17_x86_64") in props["wg-healthy"]
    assert ("wheelguard:finding", "SYMBOL_VERSION") in props["wg-new"]
    assert ("wheelguard:environment", "/app/.venv") in props["wg-pure"]
    assert ("wheelguard:kind", "pure wheel") in props["wg-pure"]
    assert comps["wg-archive"]["hashes"] == [{"alg": "SHA-256", "content": "ab" * 32}]
    assert comps["wg-archive"]["purl"].endswith("file_name=wg_archive-1.0-py3-none-any.whl")


def test_index_applies_the_install_policy_to_the_image(
        index_server: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--index: a pure wheel where the release has platform wheels is PURE_FALLBACK, a
    local build (``linux_x86_64``, the tag installers give what they build) SDIST_BUILD."""
    tree = tmp_path / "tree"
    make_dist(tree / SITE, "wg-purefallback", {"wg_purefallback/__init__.py": b""},
              tags=("py3-none-any",))
    make_dist(tree / SITE, "wg-sdistbuild", {"wg_sdistbuild/__init__.py": b""},
              tags=("cp311-cp311-linux_x86_64",))
    layout = write_oci_layout(tmp_path / "oci", [oci_image([base_layer(), tar_tree(tree)])])
    code, out, data = audit(layout, capsys, tmp_path / "r.json", "--index", index_server.url,
                            "--mode", "strict")
    assert code == exitcodes.VERIFY_ERRORS, out
    pkgs = by_name(data)
    assert "PURE_FALLBACK" in codes(pkgs["/usr:wg-purefallback"]), out
    assert "SDIST_BUILD" in codes(pkgs["/usr:wg-sdistbuild"]), out
    assert pkgs["/usr:wg-sdistbuild"]["verdict"] == "refused"
    row = next(ln for ln in out.splitlines() if ln.startswith("wg-sdistbuild "))
    assert "built locally" in row and "SDIST_BUILD" in row, row
