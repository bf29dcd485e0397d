"""Container images written as files, without an engine: layer tarballs from real trees,
OCI image layouts (directory or tarball), docker-archive tarballs (``docker save``'s
legacy form), multi-platform indexes.

Layers are real tar streams: :func:`tar_tree` adds a directory as ``tarfile`` does (hard
links as ``LNKTYPE`` members, symbolic links as they are); :class:`Member` writes what a
tree cannot hold (whiteouts, hostile paths, links to anything).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Compression = Literal["none", "gzip", "zstd"]

_LAYER_TYPES = {"none": "application/vnd.oci.image.layer.v1.tar",
                "gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
                "zstd": "application/vnd.oci.image.layer.v1.tar+zstd"}


@dataclass(frozen=True)
class Member:
    """One tar member: ``kind`` ``file`` (``data``), ``dir``, ``symlink`` / ``hardlink``
    (``link``)."""

    name: str
    kind: str = "file"
    data: bytes = b""
    link: str = ""


def tar_tree(root: Path, extra: Sequence[Member] = (), prefix: str = "") -> bytes:
    """An uncompressed tar of the tree at ``root`` (members relative to it, under
    ``prefix``), then the ``extra`` members."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        if root.exists():
            for path in sorted(root.rglob("*")):
                rel = path.relative_to(root).as_posix()
                tar.add(path, arcname=f"{prefix}{rel}", recursive=False)
        for m in extra:
            add_member(tar, m)
    return buf.getvalue()


def add_member(tar: tarfile.TarFile, m: Member) -> None:
    """Write one :class:`Member` into ``tar``."""
    info = tarfile.TarInfo(m.name)
    info.mode = 0o755 if m.kind == "dir" else 0o644
    if m.kind == "dir":
        info.type = tarfile.DIRTYPE
    elif m.kind == "symlink":
        info.type, info.linkname = tarfile.SYMTYPE, m.link
    elif m.kind == "hardlink":
        info.type, info.linkname = tarfile.LNKTYPE, m.link
    else:
        info.size = len(m.data)
        tar.addfile(info, io.BytesIO(m.data))
        return
    tar.addfile(info)


def tar_members(members: Sequence[Member]) -> bytes:
    """An uncompressed tar of ``members`` only."""
    return tar_tree(Path("/nonexistent-wheelguard-tree"), members)


def compress(data: bytes, how: Compression) -> bytes:
    """``data`` as a layer blob: plain, gzip or zstd (``zstandard``)."""
    if how == "gzip":
        return gzip.compress(data, compresslevel=1, mtime=0)
    if how == "zstd":
        import zstandard

        return bytes(zstandard.ZstdCompressor().compress(data))
    return data


def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def oci_image(layers: Sequence[bytes], how: Compression = "gzip", *,
              platform: tuple[str, str] = ("linux", "amd64"),
              blobs: dict[str, bytes] | None = None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One image: ``(manifest descriptor, blobs)``; ``layers`` are uncompressed tars."""
    blobs = {} if blobs is None else blobs
    descs = []
    for layer in layers:
        blob = compress(layer, how)
        blobs[_sha(blob)] = blob
        descs.append({"mediaType": _LAYER_TYPES[how], "digest": _sha(blob), "size": len(blob)})
    config = json.dumps({"architecture": platform[1], "os": platform[0],
                         "rootfs": {"type": "layers",
                                    "diff_ids": [_sha(layer) for layer in layers]},
                         "config": {}}).encode()
    blobs[_sha(config)] = config
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": _sha(config), "size": len(config)},
        "layers": descs}).encode()
    blobs[_sha(manifest)] = manifest
    return ({"mediaType": "application/vnd.oci.image.manifest.v1+json",
             "digest": _sha(manifest), "size": len(manifest),
             "platform": {"os": platform[0], "architecture": platform[1]}}, blobs)


def write_oci_layout(dest: Path, images: Sequence[tuple[dict[str, Any], dict[str, bytes]]],
                     *, nested_index: bool = False) -> Path:
    """Write an OCI image layout directory at ``dest`` holding ``images`` (from
    :func:`oci_image`); with ``nested_index`` index.json points at one image index blob
    that lists them (as ``buildx -o type=oci`` writes a multi-platform build)."""
    blobs: dict[str, bytes] = {}
    descs = []
    for desc, bl in images:
        blobs.update(bl)
        descs.append(desc)
    if nested_index:
        inner = json.dumps({"schemaVersion": 2,
                            "mediaType": "application/vnd.oci.image.index.v1+json",
                            "manifests": descs}).encode()
        blobs[_sha(inner)] = inner
        descs = [{"mediaType": "application/vnd.oci.image.index.v1+json",
                  "digest": _sha(inner), "size": len(inner)}]
    (dest / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    for digest, data in blobs.items():
        (dest / "blobs" / "sha256" / digest.split(":")[1]).write_bytes(data)
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": descs}))
    return dest


def tar_directory(src: Path, dest: Path) -> Path:
    """``src``'s files as a tarball at ``dest`` (as ``docker save`` or ``tar -C src -c .``)."""
    with tarfile.open(dest, "w") as tar:
        for path in sorted(src.rglob("*")):
            tar.add(path, arcname=path.relative_to(src).as_posix(), recursive=False)
    return dest


def write_docker_archive(dest: Path, layers: Sequence[bytes],
                         platform: tuple[str, str] = ("linux", "amd64")) -> Path:
    """A docker-archive tarball as ``docker save`` (Docker < 25) writes it: ``<id>/
    layer.tar`` per layer, ``<config id>.json`` with ``rootfs.diff_ids``, ``manifest.json``."""
    config = json.dumps({"architecture": platform[1], "os": platform[0],
                         "rootfs": {"type": "layers",
                                    "diff_ids": [_sha(layer) for layer in layers]}}).encode()
    cid = hashlib.sha256(config).hexdigest()
    names = [f"{hashlib.sha256(layer).hexdigest()}/layer.tar" for layer in layers]
    manifest = json.dumps([{"Config": f"{cid}.json", "RepoTags": ["wg-test:latest"],
                            "Layers": names}]).encode()
    with tarfile.open(dest, "w") as tar:
        for name, data in [*zip(names, layers), (f"{cid}.json", config),
                           ("manifest.json", manifest)]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return dest


def tree_size(site: Path, rels: Sequence[str]) -> int:
    """Total size of the files ``rels`` under ``site``."""
    return sum(os.path.getsize(site / r) for r in rels)
