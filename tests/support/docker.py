"""Test support for the ``docker`` marker: a real Docker engine, base images made without a
registry, and the Dockerfile recipes of docs/docker.md built from their very text.

- :func:`engine`: reuses a running engine (``docker info`` answers), else starts
  ``dockerd`` (Debian's ``docker.io``; default flags: overlay2, bridge network) and stops it
  by its PID at the end of the session.
- :func:`debian_base`: a ``debootstrap --variant=minbase`` Debian bookworm root with
  ``python3-venv`` and ``ca-certificates`` (cached under ``tests/.cache/docker/``, made
  once in about a minute), imported with ``docker import``.
- :func:`musl_base`: an Alpine-like image ``FROM scratch``: Debian's musl loader
  (``/lib/ld-musl-x86_64.so.1``), a static busybox as ``/bin/sh`` and its applets, and the
  musl CPython 3.11 of ``../shared/musl-cpython/`` in ``/usr/local``.
- :func:`recipes`: every ``dockerfile`` block of docs/docker.md, by its ``# recipe: NAME``
  first line.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CACHE = REPO_ROOT / "tests" / ".cache" / "docker"
DOCS = REPO_ROOT / "docs" / "docker.md"
DEBIAN_IMAGE = "wg-base-debian:bookworm"
MUSL_IMAGE = "wg-base-musl:3.11"
DEBIAN_MIRROR = "http://deb.debian.org/debian"


class DockerUnavailable(Exception):
    """No engine can run here; ``str(exc)`` says what is missing, in one line."""


def in_ci(environ: Mapping[str, str] | None = None) -> bool:
    """``CI=true`` (or ``1``)."""
    env = os.environ if environ is None else environ
    return env.get("CI", "").lower() in {"true", "1"}


def unavailable(reason: str) -> None:
    """Skip the test, or fail it under ``CI=true`` (CI must run the docker layer)."""
    if in_ci():
        pytest.fail(f"docker layer required under CI=true: {reason}", pytrace=False)
    pytest.skip(f"docker layer: {reason}")


def docker(*args: str, input_bytes: bytes | None = None, timeout: float = 900,
           cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run the ``docker`` CLI; never raises on its exit code."""
    return subprocess.run(["docker", *args], input=input_bytes, capture_output=True,
                          timeout=timeout, check=False, cwd=cwd)


def _answers() -> bool:
    try:
        return docker("info", timeout=30).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@contextmanager
def engine(work: Path) -> Iterator[None]:
    """A Docker engine for the block: the running one, else ``dockerd`` started here (log
    in ``work/dockerd.log``) and stopped by its PID afterwards.

    Raises:
        DockerUnavailable: no ``docker`` CLI, no ``dockerd``, or it did not answer in 60 s.
    """
    if shutil.which("docker") is None:
        raise DockerUnavailable("no docker CLI (apt-get install -y docker.io)")
    if _answers():
        yield
        return
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise DockerUnavailable("no dockerd (apt-get install -y docker.io)")
    work.mkdir(parents=True, exist_ok=True)
    log = (work / "dockerd.log").open("wb")
    proc = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while not _answers():
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = (work / "dockerd.log").read_text(errors="replace")[-300:]
                raise DockerUnavailable(f"dockerd did not start: {tail.strip()!r}")
            time.sleep(0.5)
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def _has_image(name: str) -> bool:
    return docker("image", "inspect", name, timeout=60).returncode == 0


def _import(root: Path, name: str) -> None:
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    assert tar.stdout is not None
    proc = subprocess.run(["docker", "import", "-", name], stdin=tar.stdout,
                          capture_output=True, check=False, timeout=900)
    tar.stdout.close()
    tar.wait()
    if proc.returncode != 0 or tar.returncode != 0:
        raise DockerUnavailable(f"docker import {name} failed: "
                                f"{proc.stderr.decode(errors='replace').strip()}")


def debian_base(cache: Path = CACHE) -> str:
    """The Debian bookworm minbase image (see the module docstring); its name.

    Raises:
        DockerUnavailable: no ``debootstrap``, or it failed (mirror unreachable).
    """
    if _has_image(DEBIAN_IMAGE):
        return DEBIAN_IMAGE
    root = cache / "debian-root"
    if not (root / "usr" / "bin" / "python3").exists():
        if shutil.which("debootstrap") is None:
            raise DockerUnavailable("no debootstrap (apt-get install -y debootstrap)")
        tmp = cache / "debian-root.tmp"
        shutil.rmtree(tmp, ignore_errors=True)
        cache.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,"
             "ca-certificates", "bookworm", str(tmp), DEBIAN_MIRROR],
            capture_output=True, text=True, check=False, timeout=1800)
        if proc.returncode != 0:
            raise DockerUnavailable(f"debootstrap failed: {proc.stderr.strip()[-300:]}")
        shutil.rmtree(root, ignore_errors=True)
        tmp.rename(root)
    _import(root, DEBIAN_IMAGE)
    return DEBIAN_IMAGE


def musl_base(archive: Path, work: Path) -> str:
    """The Alpine-like image (see the module docstring); its name.

    Raises:
        DockerUnavailable: no musl loader (``apt-get install -y musl``), no static busybox
            (``busybox-static``), or no musl CPython archive.
    """
    if _has_image(MUSL_IMAGE):
        return MUSL_IMAGE
    loader = Path("/lib/ld-musl-x86_64.so.1")
    busybox = shutil.which("busybox")
    if not loader.exists():
        raise DockerUnavailable("no musl loader /lib/ld-musl-x86_64.so.1 (apt-get install musl)")
    if busybox is None or b"ld-linux" in Path(busybox).read_bytes()[:4096]:
        raise DockerUnavailable("no static busybox (apt-get install -y busybox-static)")
    if not archive.exists():
        raise DockerUnavailable(f"no musl CPython archive {archive}")
    root = work / "musl-root"
    shutil.rmtree(root, ignore_errors=True)
    for d in ("bin", "lib", "etc", "tmp", "usr/local", "root"):
        (root / d).mkdir(parents=True)
    shutil.copyfile(loader.resolve(), root / "lib" / loader.name)
    os.chmod(root / "lib" / loader.name, 0o755)
    shutil.copyfile(busybox, root / "bin" / "busybox")
    os.chmod(root / "bin" / "busybox", 0o755)
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()
    for applet in applets:
        if applet != "busybox" and not (root / "bin" / applet).exists():
            (root / "bin" / applet).symlink_to("busybox")
    (work / "musl-unpack").mkdir(exist_ok=True)
    subprocess.run(["tar", "xJf", str(archive), "-C", str(work / "musl-unpack")], check=True)
    for entry in (work / "musl-unpack" / "musl-py").iterdir():
        shutil.move(str(entry), root / "usr" / "local" / entry.name)
    (root / "usr/local/bin/python3").unlink(missing_ok=True)
    (root / "usr/local/bin/python3").symlink_to("python3.11")
    (root / "etc/passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
    (root / "etc/group").write_text("root:x:0:\n")
    os.chmod(root / "tmp", 0o1777)
    _import(root, MUSL_IMAGE)
    return MUSL_IMAGE


def recipes(doc: Path = DOCS) -> dict[str, str]:
    """``{name: Dockerfile text}`` of every ``dockerfile`` code block of ``doc`` whose first
    line is ``# recipe: NAME``."""
    text = doc.read_text(encoding="utf-8")
    out = {}
    for block in re.findall(r"^```dockerfile\n(.*?)^```", text, re.MULTILINE | re.DOTALL):
        m = re.match(r"# recipe: ([\w-]+)\n", block)
        if m:
            out[m[1]] = block
    return out


@dataclass(frozen=True)
class Build:
    """A finished ``docker build``: its exit code and combined output."""

    returncode: int
    output: str


def build(context: Path, dockerfile: str, tag: str, build_args: Mapping[str, str],
          *, files: Mapping[str, bytes] = {}, network_host: bool = False,
          extra: Sequence[str] = ()) -> Build:
    """Write ``dockerfile`` and ``files`` into ``context`` (``certs/``, ``wheels/`` made
    empty when absent) and build it as ``tag``."""
    context.mkdir(parents=True, exist_ok=True)
    for d in ("certs", "wheels"):
        (context / d).mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile)
    for name, data in files.items():
        (context / name).parent.mkdir(parents=True, exist_ok=True)
        (context / name).write_bytes(data)
    args = ["build", "-t", tag, *extra]
    for k, v in build_args.items():
        args += ["--build-arg", f"{k}={v}"]
    if network_host:
        args += ["--network", "host"]
    proc = docker(*args, str(context), timeout=1800)
    return Build(proc.returncode, (proc.stdout + proc.stderr).decode(errors="replace"))


def egress_certs() -> dict[str, bytes]:
    """The CA bundle ``PIP_CERT`` / ``SSL_CERT_FILE`` names, as ``certs/egress.crt`` (for
    a TLS-intercepting egress), or nothing."""
    for var in ("PIP_CERT", "SSL_CERT_FILE"):
        path = os.environ.get(var)
        if path and os.path.isfile(path):
            return {"certs/egress.crt": Path(path).read_bytes()}
    return {}
