"""The ``Requires-Dist`` of a distribution file, read from metadata that needs no build.

Where it comes from, in this order (nothing of the package is run):

* PEP 658/714: the index offers the file's core metadata at ``url + ".metadata"``
  (``data-core-metadata``/``data-dist-info-metadata`` in PEP 503 HTML, ``core-metadata``/
  ``dist-info-metadata`` in PEP 691 JSON; :attr:`~poetry_wheelguard.models.Candidate.
  core_metadata`); its sha256 is checked when the index gives one;
* a wheel: the file itself, read into memory (at most :data:`MAX_DIST_BYTES`), its
  ``*.dist-info/METADATA`` from the zip (a wheel's metadata is final, PEP 427/643);
* an sdist: the file itself, its top-level ``PKG-INFO`` from the tarball (``.tar.gz``) or
  zip, used only when it is static (PEP 643: ``Metadata-Version`` >= 2.2 and
  ``Requires-Dist`` not named in ``Dynamic``); otherwise only the build backend knows the
  dependencies, and plan runs no build backend.

Everything else is reported as a reason, never guessed: :func:`read_requires` returns either
the requirement lines or why there are none to be had.
"""

from __future__ import annotations

import hashlib
import io
import tarfile
import zipfile
from email.parser import HeaderParser
from typing import Any, Union

from packaging.version import InvalidVersion, Version

from poetry_wheelguard.errors import IndexFetchError
from poetry_wheelguard.models import Candidate

MAX_DIST_BYTES = 64 << 20
"""The largest wheel or sdist downloaded (into memory) to read its metadata; a larger file's
dependencies are named as not planned."""
MAX_METADATA_BYTES = 4 << 20
"""The largest METADATA / PKG-INFO member (or ``.metadata`` file) read."""
MAX_SDIST_MEMBERS = 10000
"""An sdist's tar members looked through for ``PKG-INFO`` before giving up."""

Requires = Union[tuple[str, ...], str]
"""The ``Requires-Dist`` lines (a tuple), or the reason they cannot be known (a str)."""


def _parse(text: str, static_only: bool) -> Requires:
    """``Requires-Dist`` of core metadata ``text``; with ``static_only`` (an sdist's
    PKG-INFO) the PEP 643 check first."""
    msg = HeaderParser().parsestr(text)
    if static_only:
        raw = (msg.get("Metadata-Version") or "").strip()
        try:
            version = Version(raw)
        except InvalidVersion:
            return f"its sdist's PKG-INFO has no valid Metadata-Version ({raw!r})"
        if version < Version("2.2"):
            return (f"its sdist's metadata is not static (Metadata-Version {raw}, PEP 643 "
                    "needs 2.2+) and plan runs no build backend")
        dynamic = {d.strip().lower() for d in msg.get_all("Dynamic") or []}
        if "requires-dist" in dynamic:
            return ("its sdist's metadata is dynamic (Dynamic: Requires-Dist) and plan runs "
                    "no build backend")
    return tuple(str(r).strip() for r in msg.get_all("Requires-Dist") or [] if str(r).strip())


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")


def _from_wheel(data: bytes) -> Requires:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = [i for i in zf.infolist() if i.filename.count("/") == 1
                     and i.filename.endswith(".dist-info/METADATA")]
            if len(infos) != 1:
                return "its wheel has no single .dist-info/METADATA"
            if infos[0].file_size > MAX_METADATA_BYTES:
                return f"its wheel's METADATA is larger than {MAX_METADATA_BYTES} bytes"
            with zf.open(infos[0]) as fh:
                return _parse(_decode(fh.read(MAX_METADATA_BYTES + 1)), static_only=False)
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError,
            EOFError) as exc:
        return f"its wheel is not a readable zip ({exc})"


def _from_sdist(data: bytes, filename: str) -> Requires:
    if filename.endswith(".zip"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                infos = [i for i in zf.infolist() if i.filename.count("/") == 1
                         and i.filename.endswith("/PKG-INFO")]
                if not infos or infos[0].file_size > MAX_METADATA_BYTES:
                    return "its sdist has no top-level PKG-INFO"
                with zf.open(infos[0]) as fh:
                    return _parse(_decode(fh.read(MAX_METADATA_BYTES + 1)), static_only=True)
        except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError,
                EOFError) as exc:
            return f"its sdist is not a readable zip ({exc})"
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
            for _ in range(MAX_SDIST_MEMBERS):
                member = tf.next()
                if member is None:
                    break
                name = member.name.lstrip("./")
                if name.count("/") == 1 and name.endswith("/PKG-INFO"):
                    if not member.isfile() or member.size > MAX_METADATA_BYTES:
                        return "its sdist's PKG-INFO is not a regular file of sane size"
                    stream = tf.extractfile(member)
                    if stream is None:
                        break
                    return _parse(_decode(stream.read(MAX_METADATA_BYTES + 1)),
                                  static_only=True)
    except (tarfile.TarError, OSError, ValueError, EOFError) as exc:
        return f"its sdist is not a readable tarball ({exc})"
    return "its sdist has no top-level PKG-INFO"


def read_requires(cand: Candidate, client: Any, package: str = "") -> Requires:
    """The ``Requires-Dist`` lines of the file ``cand`` (module docstring for the sources),
    or the reason they cannot be known without a build (one phrase: "its sdist's metadata
    is dynamic ...", "cannot download ...").

    ``client`` is an :class:`~poetry_wheelguard.index.IndexClient` (its
    ``fetch_file(url, max_bytes, package)``). Never raises for bad or missing input: an
    index error, a digest mismatch or a malformed archive is a reason.
    """
    dist = cand.dist
    if dist is None or not cand.url:
        return "its file has no URL to read metadata from"
    if cand.core_metadata is not None and dist.kind == "wheel":
        try:
            data = client.fetch_file(cand.url + ".metadata", MAX_METADATA_BYTES, package)
        except IndexFetchError as exc:
            return f"cannot read its PEP 658 metadata ({exc.reason})"
        if cand.core_metadata and hashlib.sha256(data).hexdigest() != cand.core_metadata:
            return "its PEP 658 metadata file does not match the index's sha256"
        return _parse(_decode(data), static_only=False)
    try:
        data = client.fetch_file(cand.url, MAX_DIST_BYTES, package)
    except IndexFetchError as exc:
        return f"cannot download {cand.filename} to read its metadata ({exc.reason})"
    if cand.sha256 and hashlib.sha256(data).hexdigest() != cand.sha256:
        return f"{cand.filename} does not match the index's sha256"
    if dist.kind == "wheel":
        return _from_wheel(data)
    return _from_sdist(data, cand.filename)
