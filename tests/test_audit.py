"""``pip-guard audit``: images written here as files (OCI layouts, OCI and docker-archive
tarballs) from real trees - the ELF fixture sysroots and distributions installed into them
- with whiteouts, opaque directories, hard links, symbolic links and hostile members; then
the same checks against images a real Docker engine builds from docs/docker.md
(``docker`` marker)."""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest

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

    import contextlib

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
    code, out, data = audit(root, capsys, tmp_path / "r.json")
    assert code == exitcodes.OK, out
    assert codes(by_name(data)["/usr:wg-new"]) == {"SYMBOL_VERSION"}
    assert data["audit"]["source"] == "rootfs"


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
    import contextlib

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
