"""An image's layers, applied as an engine applies them, into a small temporary sysroot.

Sources (:func:`open_image`):

- an OCI image layout directory (``oci-layout``, ``index.json``, ``blobs/<alg>/<hex>``:
  OCI image-spec "Image Layout"), e.g. ``docker buildx build -o type=oci,dest=- | tar x``;
- an OCI layout or docker-archive tarball (``docker save``: ``manifest.json`` with
  ``Config`` and ``Layers``; Docker 25+ writes both forms in one tarball, the OCI one is
  read), plain or gzip-compressed;
- ``docker:NAME[:TAG]``: ``docker save`` through the local engine's CLI, into the
  temporary directory;
- a root filesystem directory: used as it is (no layers).

An image index (OCI ``image.index``, Docker ``manifest.list``) is resolved to one image by
``--platform OS/ARCH[/VARIANT]``; without it, the only image, else the running machine's
(``linux/amd64`` on x86_64), as ``docker pull`` picks. Attestation manifests (BuildKit's
``vnd.docker.reference.type: attestation-manifest``, platform ``unknown/unknown``) are not
images.

Layers (:func:`apply_layers`), in manifest order, each read once as a stream (plain tar,
gzip or zstd, told by the blob's magic bytes, not its media type; zstd needs the
``zstandard`` package: ``pip install poetry-wheelguard[zstd]``), following the OCI
image-spec "Applying changesets" rules:

- ``.wh.NAME`` deletes ``NAME`` (and all below it) of the lower layers;
  ``.wh..wh..opq`` in a directory hides every lower-layer entry of that directory, while
  entries of the same layer stay;
- a non-directory replaces whatever was at its path; a directory merges with a lower
  directory and replaces a lower non-directory;
- a hard link is the file it names (an earlier member, this layer or below);
- a member's parent directories are resolved inside the image root: a symbolic link is
  followed as ``chroot(root)`` would (absolute targets start at the root, ``..`` stops at
  the root), never on the host; 40 links on one path are a loop.

Every member path is recorded (a tree of names and sizes: a few tens of bytes per member),
and symbolic links are resolved in that tree; only the members verify needs are written
to the disk, as the stream passes: ``.dist-info`` /
``.egg-info`` contents, ``pyvenv.cfg``, ``_sysconfigdata_*.py``, ``ld.so.cache``,
``ld.so.conf``(``.d``), ``ld-musl-*.path``, Alpine's package database, and every file whose
first bytes are ELF, Mach-O or PE (:func:`elf.kind_of_magic`), with every symbolic link
(and the directories these need). A link's target is rewritten as the in-root path it
names, relative to the link, so a host lookup of a sysroot path never leaves the sysroot.
Nothing in the image is executed. Memory stays bounded: blobs are streamed in 1 MiB
pieces.

Checked, each failure one :class:`ImageError` line naming the image and the layer: not an
image, a manifest that is not JSON, a blob whose digest is not the manifest's (layer blobs
by their descriptor digest, uncompressed streams by the config's ``rootfs.diff_ids``), a
truncated or corrupt layer, a member path that is absolute or climbs out with ``..``, a
symbolic link loop, a hard link to a file the image does not have, and a tar bomb
(:class:`Limits`).

One concern, one module, whatever its length: applying an image's layers.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import importlib
import io
import json
import os
import platform as _platform
import re
import shutil
import stat
import subprocess
import tarfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any, Literal, Union, cast

from poetry_wheelguard.elf import kind_of_magic
from poetry_wheelguard.errors import WheelguardError

SourceKind = Literal["rootfs", "oci-layout", "oci-archive", "docker-archive"]

_MAX_SYMLINKS = 40
"""Linux ``MAXSYMLINKS``: more links than this on one path is ``ELOOP``."""
_CHUNK = 1 << 20
_JSON_LIMIT = 16 << 20
_DIGEST = re.compile(r"^(sha256|sha512):([a-f0-9]{64}|[a-f0-9]{128})$")
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json")
_ARCH_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "i686": "386",
                 "i386": "386", "ppc64le": "ppc64le", "s390x": "s390x"}
_WANTED_FILES = ("etc/ld.so.cache", "etc/ld.so.conf", "lib/apk/db/installed")


class ImageError(WheelguardError):
    """An image that cannot be read as one: the message names the image file and, when it
    is a layer's fault, the layer (``layer 2 of 5 (sha256:1a2b3c4d5e6f)``)."""


@dataclass(frozen=True)
class Limits:
    """Bounds against tar bombs; going past one is an :class:`ImageError`.

    Attributes:
        max_members: members of all layers together.
        max_bytes: uncompressed bytes of all layers together.
        max_ratio: uncompressed / compressed bytes of one layer, checked once the layer
            has given ``ratio_floor`` uncompressed bytes (ordinary layers compress 2-10x).
        ratio_floor: see ``max_ratio``.
    """

    max_members: int = 4_000_000
    max_bytes: int = 64 << 30
    max_ratio: int = 200
    ratio_floor: int = 256 << 20


@dataclass(frozen=True)
class LayerRef:
    """One layer blob of an image.

    Attributes:
        label: where it is, for messages (``blobs/sha256/1a2b...``, ``abc/layer.tar``).
        digest: the descriptor's ``sha256:<hex>`` of the blob as stored, ``""`` if none.
        diff_id: the config's ``rootfs.diff_ids`` entry (digest of the uncompressed tar),
            ``""`` if the config has none.
        open: returns a binary stream of the blob (closed by the caller).
    """

    label: str
    digest: str
    diff_id: str
    open: Callable[[], IO[bytes]]


@dataclass
class Image:
    """An image to audit (:func:`open_image`).

    Attributes:
        source: the target as given (``docker:app``, a path).
        kind: see :data:`SourceKind`.
        path: the file or directory read (the ``docker save`` tarball for ``docker:``).
        platform: ``os/arch[/variant]`` from the config, ``""`` when unknown.
        layers: bottom first; empty for a root filesystem directory.
        root: the root filesystem directory (``rootfs`` only), else ``""``.
    """

    source: str
    kind: SourceKind
    path: str
    platform: str = ""
    layers: list[LayerRef] = field(default_factory=list)
    root: str = ""


Node = Union[int, str, dict[str, Any]]
"""A tree entry: a regular file's size (int), a symbolic link's target (str), a directory
(dict of name -> Node)."""


@dataclass
class Applied:
    """The image after :func:`apply_layers`.

    Attributes:
        root: the sysroot directory (or the rootfs directory itself).
        tree: the whole image as names and sizes (``None`` for a rootfs directory: sizes
            are read from the disk).
        members: tar members read; written: files written into ``root``; written_bytes:
            their bytes.
    """

    root: str
    tree: dict[str, Any] | None
    members: int = 0
    written: int = 0
    written_bytes: int = 0

    def size_of(self, host_path: str) -> int:
        """Size in bytes, in the image, of the regular file at ``host_path`` (a path in
        :attr:`root`, its parent directories resolved in the image's tree), 0 when the
        image has no such regular file."""
        if self.tree is None:
            try:
                st = os.lstat(host_path)
            except OSError:
                return 0
            return st.st_size if stat.S_ISREG(st.st_mode) else 0
        rel = os.path.relpath(os.path.dirname(host_path), self.root)
        if rel.startswith(".."):
            return 0
        try:
            parent = _resolve(self.tree, rel.split(os.sep), create=False)
        except _Loop:
            return 0
        node: Any = self.tree
        for part in parent or ():
            node = node[part]
        found = node.get(os.path.basename(host_path)) if parent is not None else None
        return found if isinstance(found, int) else 0


# --- opening an image ---------------------------------------------------------------------

def _host_platform() -> str:
    machine = _platform.machine().lower()
    return f"linux/{_ARCH_ALIASES.get(machine, machine)}"


def _norm_platform(text: str) -> str:
    parts = text.strip().lower().split("/")
    if len(parts) >= 2:
        parts[1] = _ARCH_ALIASES.get(parts[1], parts[1])
    return "/".join(parts)


def _platform_of(obj: Any) -> str:
    if not isinstance(obj, dict):
        return ""
    os_name, arch = obj.get("os"), obj.get("architecture")
    if not isinstance(os_name, str) or not isinstance(arch, str):
        return ""
    variant = obj.get("variant")
    return f"{os_name}/{arch}" + (f"/{variant}" if isinstance(variant, str) and variant else "")


class _Blobs:
    """Reads blobs and files of an OCI layout or docker-archive, directory or tarball."""

    def __init__(self, path: str, stack: contextlib.ExitStack) -> None:
        self.path = path
        self.tar: tarfile.TarFile | None = None
        self.members: dict[str, tarfile.TarInfo] = {}
        if os.path.isdir(path):
            return
        try:
            self.tar = stack.enter_context(tarfile.open(path, "r:*"))  # noqa: SIM115
            for info in self.tar:
                self.members[_clean(info.name)] = info
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise ImageError("not an image: not a tar archive nor an OCI layout directory",
                             filename=path) from exc

    def has(self, name: str) -> bool:
        if self.tar is None:
            return os.path.isfile(os.path.join(self.path, name))
        info = self.members.get(name)
        return info is not None and info.isreg()

    def open(self, name: str) -> IO[bytes]:
        if self.tar is None:
            try:
                return open(os.path.join(self.path, name), "rb")
            except OSError as exc:
                raise ImageError(f"cannot read {name} ({exc.strerror})",
                                 filename=self.path) from exc
        info = self.members.get(name)
        stream = self.tar.extractfile(info) if info is not None and info.isreg() else None
        if stream is None:
            raise ImageError(f"the image has no file {name}", filename=self.path)
        return stream

    def json(self, name: str, digest: str = "") -> Any:
        with self.open(name) as fh:
            data = fh.read(_JSON_LIMIT + 1)
        if len(data) > _JSON_LIMIT:
            raise ImageError(f"{name} is larger than 16 MiB; not an image manifest",
                             filename=self.path)
        if digest:
            alg, _, want = digest.partition(":")
            if hashlib.new(alg, data).hexdigest() != want:
                raise ImageError(f"{name}: digest mismatch (the manifest says {digest})",
                                 filename=self.path)
        try:
            return json.loads(data)
        except ValueError as exc:
            raise ImageError(f"{name} is not JSON ({exc})", filename=self.path) from exc

    def blob_name(self, descriptor: Any) -> tuple[str, str]:
        digest = descriptor.get("digest") if isinstance(descriptor, dict) else None
        m = _DIGEST.match(digest) if isinstance(digest, str) else None
        if m is None:
            raise ImageError(f"a descriptor has no valid digest ({digest!r})",
                             filename=self.path)
        return f"blobs/{m[1]}/{m[2]}", str(digest)


def open_image(target: str, stack: contextlib.ExitStack, workdir: str,
               platform: str | None = None) -> Image:
    """Open ``target`` (see the module docstring); files stay open until ``stack`` closes.

    ``workdir`` is a temporary directory for ``docker save``. ``platform`` is
    ``os/arch[/variant]`` (``linux/amd64``, ``linux/arm64/v8``).

    Raises:
        ImageError: not an image, a manifest or config unreadable or with a wrong digest,
            no image for the platform, ``docker save`` failed.
    """
    path = target
    if target.startswith("docker:"):
        path = _docker_save(target[len("docker:"):], workdir)
    if not os.path.exists(path):
        raise ImageError("no such file or directory", filename=target)
    if os.path.isdir(path) and not os.path.isfile(os.path.join(path, "oci-layout")):
        if os.path.isfile(os.path.join(path, "manifest.json")):
            blobs = _Blobs(path, stack)
            return _docker_archive(target, path, blobs, platform)
        return Image(target, "rootfs", path, root=path)
    blobs = _Blobs(path, stack)
    if blobs.has("oci-layout") and blobs.has("index.json"):
        kind: SourceKind = "oci-layout" if os.path.isdir(path) else "oci-archive"
        return _oci(target, path, kind, blobs, platform)
    if blobs.has("manifest.json"):
        return _docker_archive(target, path, blobs, platform)
    raise ImageError("not an image: neither an OCI layout (oci-layout, index.json) nor a "
                     "docker-archive (manifest.json)", filename=path)


def _docker_save(name: str, workdir: str) -> str:
    if not name:
        raise ImageError("docker: needs an image name (docker:NAME[:TAG])")
    out = os.path.join(workdir, "docker-save.tar")
    try:
        proc = subprocess.run(["docker", "save", "-o", out, name], capture_output=True,
                              text=True, check=False, timeout=3600)
    except (OSError, subprocess.SubprocessError) as exc:
        raise ImageError(f"cannot run docker save ({exc}); is the docker CLI installed?",
                         filename=f"docker:{name}") from exc
    if proc.returncode != 0:
        last = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ImageError(f"docker save failed: {last[0]}", filename=f"docker:{name}")
    return out


def _oci(target: str, path: str, kind: SourceKind, blobs: _Blobs,
         platform: str | None) -> Image:
    index = blobs.json("index.json")
    found: list[tuple[str, dict[str, Any]]] = []

    def walk(doc: Any, depth: int) -> None:
        manifests = doc.get("manifests") if isinstance(doc, dict) else None
        if not isinstance(manifests, list) or depth > 4:
            raise ImageError("index.json lists no manifests", filename=path)
        for desc in manifests:
            if not isinstance(desc, dict):
                continue
            annotations = desc.get("annotations") or {}
            if isinstance(annotations, dict) and annotations.get(
                    "vnd.docker.reference.type") == "attestation-manifest":
                continue
            plat = _platform_of(desc.get("platform"))
            if plat.startswith("unknown/"):
                continue
            name, digest = blobs.blob_name(desc)
            if desc.get("mediaType") in _INDEX_TYPES:
                walk(blobs.json(name, digest), depth + 1)
            else:
                found.append((plat, desc))

    walk(index, 0)
    if not found:
        raise ImageError("index.json lists no image manifest", filename=path)
    plat, desc = _choose(found, platform, path)
    name, digest = blobs.blob_name(desc)
    manifest = blobs.json(name, digest)
    if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), list):
        raise ImageError(f"{name} is not an image manifest (no layers)", filename=path)
    cname, cdigest = blobs.blob_name(manifest.get("config"))
    config = blobs.json(cname, cdigest)
    diff_ids = _diff_ids(config)
    layers = []
    for i, ldesc in enumerate(manifest["layers"]):
        lname, ldigest = blobs.blob_name(ldesc)
        layers.append(LayerRef(lname, ldigest, diff_ids[i] if i < len(diff_ids) else "",
                               _opener(blobs, lname)))
    return Image(target, kind, path, _platform_of(config) or plat, layers)


def _choose(found: list[tuple[str, dict[str, Any]]], platform: str | None,
            path: str) -> tuple[str, dict[str, Any]]:
    if platform:
        want = _norm_platform(platform)
        for plat, desc in found:
            if _norm_platform(plat) == want or (
                    want.count("/") == 1 and _norm_platform(plat).startswith(want + "/")):
                return plat, desc
        raise ImageError(f"no image for --platform {platform} (the index has "
                         f"{', '.join(p or 'unnamed' for p, _ in found)})", filename=path)
    if len(found) == 1:
        return found[0]
    host = _host_platform()
    for plat, desc in found:
        if _norm_platform(plat).startswith(host):
            return plat, desc
    raise ImageError(f"the index holds {len(found)} images "
                     f"({', '.join(p or 'unnamed' for p, _ in found)}); choose one with "
                     "--platform", filename=path)


def _diff_ids(config: Any) -> list[str]:
    rootfs = config.get("rootfs") if isinstance(config, dict) else None
    ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    return [str(x) for x in ids] if isinstance(ids, list) else []


def _opener(blobs: _Blobs, name: str) -> Callable[[], IO[bytes]]:
    return lambda: blobs.open(name)


def _docker_archive(target: str, path: str, blobs: _Blobs, platform: str | None) -> Image:
    manifest = blobs.json("manifest.json")
    if not isinstance(manifest, list) or not manifest or not isinstance(manifest[0], dict):
        raise ImageError("manifest.json lists no image", filename=path)
    entry = manifest[0]
    config_name = entry.get("Config")
    layer_names = entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list):
        raise ImageError("manifest.json: the image has no Config or Layers", filename=path)
    config = blobs.json(_clean(config_name))
    plat = _platform_of(config)
    if platform and plat and _norm_platform(plat) != _norm_platform(platform):
        raise ImageError(f"the image is {plat}, not --platform {platform}", filename=path)
    diff_ids = _diff_ids(config)
    layers = []
    for i, lname in enumerate(layer_names):
        name = _clean(str(lname))
        m = re.match(r"^blobs/(sha256)/([a-f0-9]{64})$", name)
        layers.append(LayerRef(name, f"{m[1]}:{m[2]}" if m else "",
                               diff_ids[i] if i < len(diff_ids) else "", _opener(blobs, name)))
    return Image(target, "docker-archive", path, plat, layers)


def _clean(name: str) -> str:
    return "/".join(p for p in name.split("/") if p not in ("", "."))


# --- reading a layer ----------------------------------------------------------------------

class _Counting(io.RawIOBase):
    """A read-only stream over ``inner`` that hashes and counts what passes."""

    def __init__(self, inner: IO[bytes], alg: str = "sha256") -> None:
        self.inner = inner
        self.hash = hashlib.new(alg)
        self.count = 0
        self.head = b""
        self.on_read: Callable[[], None] | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buf: Any) -> int:
        if self.head:
            n = min(len(buf), len(self.head))
            buf[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.inner.read(len(buf))
        if not data:
            return 0
        self.hash.update(data)
        self.count += len(data)
        if self.on_read is not None:
            self.on_read()
        buf[:len(data)] = data
        return len(data)

    def peek4(self) -> bytes:
        data = self.inner.read(4)
        self.hash.update(data)
        self.count += len(data)
        self.head = data
        return data

    def drain(self) -> None:
        while self.read(_CHUNK):
            pass


def _decompressed(raw: _Counting, label: str) -> IO[bytes]:
    magic = raw.peek4()
    buffered = io.BufferedReader(raw, _CHUNK)
    if magic[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    if magic == b"\x28\xb5\x2f\xfd":
        try:
            zstandard: Any = importlib.import_module("zstandard")
        except ImportError:
            raise ImageError(f"{label} is zstd-compressed; install the zstd extra (pip install "
                             "'poetry-wheelguard[zstd]') to read it") from None
        reader: IO[bytes] = zstandard.ZstdDecompressor().stream_reader(
            buffered, read_across_frames=True)
        return reader
    return buffered


def apply_layers(image: Image, dest: str, limits: Limits | None = None) -> Applied:
    """Apply ``image``'s layers into the empty directory ``dest`` (see the module
    docstring); a root filesystem image is returned as it is.

    Raises:
        ImageError: one line naming the image file and the layer (see the module
            docstring).
    """
    if image.kind == "rootfs":
        return Applied(os.path.abspath(image.root), None)
    limits = limits or Limits()
    applied = Applied(os.path.abspath(dest), {})
    os.makedirs(applied.root, exist_ok=True)
    total = 0
    for n, layer in enumerate(image.layers, 1):
        where = f"layer {n} of {len(image.layers)} ({layer.digest[:19] or layer.label})"
        try:
            total = _apply_one(image, layer, where, applied, limits, total)
        except ImageError:
            raise
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise ImageError(f"{where}: truncated or corrupt layer ({exc})",
                             filename=image.path) from exc
        except OSError as exc:
            raise ImageError(f"{where}: cannot read the layer ({exc})",
                             filename=image.path) from exc
        except Exception as exc:
            if type(exc).__module__.startswith("zstandard"):  # zstandard.ZstdError
                raise ImageError(f"{where}: truncated or corrupt layer ({exc})",
                                 filename=image.path) from exc
            raise
    return applied


class _Layer:
    """State of one layer being applied."""

    def __init__(self, image: Image, where: str, applied: Applied) -> None:
        self.image = image
        self.where = where
        self.applied = applied
        self.root = applied.root
        self.written: set[str] = set()

    def fail(self, what: str, member: str) -> ImageError:
        return ImageError(f"{self.where}: {what}: {member}", filename=self.image.path)


def _apply_one(image: Image, layer: LayerRef, where: str, applied: Applied, limits: Limits,
               total: int) -> int:
    state = _Layer(image, where, applied)
    with layer.open() as blob:
        alg = layer.digest.partition(":")[0] or "sha256"
        raw = _Counting(blob, alg)
        plain = _Counting(_decompressed(raw, f"{where} of {image.path}"),
                          layer.diff_id.partition(":")[0] or "sha256")

        def check(member: str) -> None:
            if total + plain.count > limits.max_bytes or (
                    plain.count > limits.ratio_floor
                    and plain.count > limits.max_ratio * max(raw.count, 1)):
                raise state.fail(f"tar bomb: {plain.count} bytes from {raw.count} "
                                 "compressed", member)

        last = ""
        plain.on_read = lambda: check(last)  # a bomb stops while tarfile skips its data
        with tarfile.open(fileobj=io.BufferedReader(plain, _CHUNK), mode="r|") as tar:
            for info in tar:
                cast(Any, tar).members = []  # stream mode keeps every TarInfo otherwise
                applied.members += 1
                last = info.name
                if applied.members > limits.max_members:
                    raise state.fail(f"tar bomb: more than {limits.max_members} members",
                                     info.name)
                _member(state, tar, info)
        plain.drain()  # the end-of-archive blocks and padding
        raw.drain()
    for digest, counted, what in ((layer.digest, raw, "blob"),
                                  (layer.diff_id, plain, "uncompressed layer")):
        if digest and counted.hash.hexdigest() != digest.partition(":")[2]:
            raise ImageError(f"{where}: digest mismatch: the {what} is sha256:"
                             f"{counted.hash.hexdigest()[:12]}..., the manifest says "
                             f"{digest[:19]}...", filename=image.path)
    return total + plain.count


def _member_parts(state: _Layer, name: str) -> list[str]:
    if name.startswith("/"):
        raise state.fail("absolute member path (escapes the image root)", name)
    parts = []
    for p in name.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            raise state.fail("member path escapes the image root (..)", name)
        parts.append(p)
    return parts


class _Loop(Exception):
    pass


def _resolve(tree: dict[str, Any], parts: list[str], create: bool,
             replaced: list[list[str]] | None = None) -> list[str] | None:
    """The link-free path of directory ``parts`` in ``tree``, symbolic links followed as
    ``chroot`` would (absolute targets from the root, ``..`` stopping at the root); missing
    directories (or non-directories in the way) become directories when ``create``, else
    ``None``.

    Raises:
        _Loop: more than 40 links.
    """
    todo = list(parts)
    done: list[str] = []
    node = tree
    hops = 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if done:
                done.pop()
                node = tree
                for d in done:
                    node = node[d]
            continue
        child = node.get(part)
        if isinstance(child, str):
            hops += 1
            if hops > _MAX_SYMLINKS:
                raise _Loop
            if child.startswith("/"):
                done, node = [], tree
            todo = [p for p in child.split("/") if p] + todo
            continue
        if not isinstance(child, dict):
            if not create:
                return None
            if child is not None and replaced is not None:
                replaced.append([*done, part])
            child = {}
            node[part] = child
        node = child
        done.append(part)
    return done


def _resolve_dir(state: _Layer, parts: list[str], member: str, create: bool
                 ) -> list[str] | None:
    assert state.applied.tree is not None
    replaced: list[list[str]] = []
    try:
        found = _resolve(state.applied.tree, parts, create, replaced)
    except _Loop:
        raise state.fail("symbolic link loop", member) from None
    for rel in replaced:  # a file where a directory is needed: gone from the disk too
        _remove(os.path.join(state.root, *rel))
    return found


def _tree_dir(applied: Applied, parts: list[str]) -> dict[str, Any]:
    assert applied.tree is not None
    node: dict[str, Any] = applied.tree
    for part in parts:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    return node


def _replace(state: _Layer, rel: list[str], value: Node) -> None:
    """Put ``value`` at ``rel`` (a directory over a directory merges); whatever it replaces
    leaves the disk too, so the disk never holds a link where the tree has a directory."""
    parent = _tree_dir(state.applied, rel[:-1])
    old = parent.get(rel[-1])
    if isinstance(value, dict) and isinstance(old, dict):
        return
    if old is not None:
        _remove(os.path.join(state.root, *rel))
    parent[rel[-1]] = value


def _remove(host: str) -> None:
    if os.path.isdir(host) and not os.path.islink(host):
        shutil.rmtree(host)
    elif os.path.lexists(host):
        os.unlink(host)


def _wanted(rel: list[str], head: bytes) -> bool:
    name = rel[-1]
    if kind_of_magic(head) in ("elf", "macho", "pe"):
        return True
    if any(p.endswith((".dist-info", ".egg-info")) for p in rel[:-1]):
        return True
    if name == "pyvenv.cfg" or (name.startswith("_sysconfigdata") and name.endswith(".py")):
        return True
    joined = "/".join(rel)
    return joined in _WANTED_FILES or joined.startswith("etc/ld.so.conf.d/") or (
        len(rel) == 2 and rel[0] == "etc" and name.startswith("ld-musl-")
        and name.endswith(".path"))


def _member(state: _Layer, tar: tarfile.TarFile, info: tarfile.TarInfo) -> None:
    parts = _member_parts(state, info.name)
    if not parts:
        return  # the root directory itself
    applied = state.applied
    base = parts[-1]
    parent = _resolve_dir(state, parts[:-1], info.name, create=not base.startswith(".wh."))
    if base.startswith(".wh."):
        if parent is None:
            return
        if base == ".wh..wh..opq":
            _opaque(state, parent)
        else:
            victim = base[len(".wh."):]
            _remove(os.path.join(state.root, *parent, victim))
            _tree_dir(applied, parent).pop(victim, None)
        return
    assert parent is not None
    rel = [*parent, base]
    host = os.path.join(state.root, *rel)
    state.written.add("/".join(rel))
    if info.isdir():
        _replace(state, rel, {})
    elif info.issym():
        _replace(state, rel, info.linkname)
        os.makedirs(os.path.dirname(host), exist_ok=True)
        _remove(host)
        os.symlink(_in_root_link(parent, info.linkname), host)
    elif info.islnk():
        _hard_link(state, info, rel, host)
    elif info.isreg():
        _replace(state, rel, info.size)
        stream = tar.extractfile(info)
        assert stream is not None
        head = stream.read(64)
        if _wanted(rel, head):
            os.makedirs(os.path.dirname(host), exist_ok=True)
            _remove(host)
            with open(host, "wb") as out:
                out.write(head)
                shutil.copyfileobj(stream, out, _CHUNK)
                written = out.tell()
            if written != info.size:
                raise state.fail("truncated layer: the member ends early", info.name)
            applied.written += 1
            applied.written_bytes += written
    # devices, FIFOs: nothing an audit reads


def _hard_link(state: _Layer, info: tarfile.TarInfo, rel: list[str], host: str) -> None:
    tparts = _member_parts(state, info.linkname)
    tparent = _resolve_dir(state, tparts[:-1], info.name, create=False) if tparts else None
    node: Any = _tree_dir(state.applied, tparent).get(tparts[-1]) \
        if tparent is not None and tparts else None
    if not isinstance(node, int):
        raise state.fail(f"hard link to {info.linkname}, which the image does not have "
                         "as a regular file", info.name)
    _replace(state, rel, node)
    assert tparent is not None
    target = os.path.join(state.root, *tparent, tparts[-1])
    if os.path.isfile(target) and not os.path.islink(target):
        os.makedirs(os.path.dirname(host), exist_ok=True)
        _remove(host)
        try:
            os.link(target, host)
        except OSError:
            shutil.copyfile(target, host)


def _in_root_link(parent: list[str], linkname: str) -> str:
    """``linkname`` as the in-root path it names (absolute from the root, ``..`` stopping
    at the root), relative to the link's directory ``parent``."""
    parts = [] if linkname.startswith("/") else list(parent)
    for p in linkname.split("/"):
        if p in ("", "."):
            continue
        if p == "..":
            if parts:
                parts.pop()
            continue
        parts.append(p)
    rel = os.path.relpath(os.path.join("/", *parts), os.path.join("/", *parent))
    return rel


def _opaque(state: _Layer, parent: list[str]) -> None:
    """``.wh..wh..opq``: remove every lower-layer entry below ``parent``; entries this
    layer wrote stay (OCI image-spec, "Opaque Whiteout")."""

    def prune(rel: list[str], node: dict[str, Any]) -> None:
        for name in list(node):
            sub = [*rel, name]
            if "/".join(sub) in state.written:
                child = node[name]
                if isinstance(child, dict):
                    prune(sub, child)
                continue
            del node[name]
            _remove(os.path.join(state.root, *sub))

    prune(parent, _tree_dir(state.applied, parent))
