"""Reading an input file the user named (requirements file, lock, report): regular files
only, or ``-`` for standard input.

A FIFO would block until some writer comes, a device such as ``/dev/zero`` never ends and
a directory is no file: each is refused with one line before any byte is read. The file is
opened with ``O_NONBLOCK`` (so opening a FIFO does not wait for a writer) and judged by
``fstat`` of what was opened, so a symbolic link is followed to its target and a file
swapped after the check is still the one judged.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

from poetry_wheelguard.errors import WheelguardError

# Standard input is read up to this many bytes: `-` from /dev/zero must end too.
STDIN_MAX_BYTES = 256 << 20

_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def read_input_bytes(path: str | Path, what: str) -> bytes:
    """The bytes of the regular file at ``path`` (a symbolic link is followed), or of
    standard input for ``-`` (at most :data:`STDIN_MAX_BYTES`). ``what`` names the file's
    role in the error (``"requirements file"``).

    Raises:
        WheelguardError: the file is missing or unreadable, its name holds a NUL byte, or
            it is not a regular file (a FIFO, a device, a directory, a socket); names the
            file.
    """
    shown = str(path)
    if shown == "-":
        try:
            data = sys.stdin.buffer.read(STDIN_MAX_BYTES + 1)
        except (OSError, AttributeError, ValueError) as exc:
            raise WheelguardError(f"cannot read the {what} from standard input ({exc})",
                                  filename="-") from exc
        if len(data) > STDIN_MAX_BYTES:
            raise WheelguardError(f"the {what} on standard input is larger than "
                                  f"{STDIN_MAX_BYTES} bytes", filename="-")
        return data
    if "\x00" in shown:
        raise WheelguardError(f"the {what}'s name holds a NUL byte", filename=repr(shown))
    try:
        fd = os.open(shown, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise WheelguardError(f"cannot read the {what} ({exc.strerror or exc})",
                              filename=shown) from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise WheelguardError(f"the {what} is {kind}, not a regular file; give a file "
                                  "(or - for standard input)", filename=shown)
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            return f.read()
    except OSError as exc:
        raise WheelguardError(f"cannot read the {what} ({exc.strerror or exc})",
                              filename=shown) from exc
    finally:
        if fd >= 0:
            os.close(fd)


def read_input_text(path: str | Path, what: str) -> str:
    """:func:`read_input_bytes` decoded as UTF-8.

    Raises:
        WheelguardError: as :func:`read_input_bytes`, or the bytes are not UTF-8 (names the
            file and the offset of the first bad byte).
    """
    data = read_input_bytes(path, what)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WheelguardError(f"the {what} is not UTF-8 (byte 0x{data[exc.start]:02x} at "
                              f"offset {exc.start}); save it as UTF-8",
                              filename=str(path)) from exc
