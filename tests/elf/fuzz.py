"""Mutational fuzzing of elf.read_elf and of the verify pipeline over the ELF fixtures.

    python -m tests.elf.fuzz FIXTURE_DIR [--count N] [--seed S] [--per-file-timeout SEC]

Each mutant is one fixture with random damage: byte flips anywhere or in the headers,
extreme values written over header, program-header and dynamic-table words, truncation,
duplicated chunks. Every parse runs under an interval timer; a parse that takes longer than
the timeout is a hang. Prints one JSON line: counts per outcome, the slowest parse, and
every failure (a mutant that raised, hung or gave an unknown answer), with the mutant's
bytes saved next to ``--keep`` for reproduction. Exit status 1 when there is a failure.
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import struct
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from poetry_wheelguard.elf import CorruptElf, ElfFacts, NotElf, read_elf

EXTREMES = [0, 1, 0x7F, 0xFF, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
            0x7FFFFFFFFFFFFFFF, 0xFFFFFFFFFFFFFFFF, 0x1000, 0x10000000]


class Hang(Exception):
    """The interval timer fired: the parse did not finish in time."""


def _alarm(_signum: int, _frame: Any) -> None:
    raise Hang()


def _word_offsets(data: bytes) -> list[int]:
    """Offsets worth hitting: the ELF header, the program headers, the dynamic table."""
    if data[:4] != b"\x7fELF" or len(data) < 64:
        return list(range(0, min(len(data), 64), 4))
    wide = data[4] == 2
    order = "<" if data[5] == 1 else ">"
    out = list(range(16, 64 if wide else 52, 2))
    phoff, phnum = ((struct.unpack_from(order + "Q", data, 32)[0],
                     struct.unpack_from(order + "H", data, 56)[0]) if wide else
                    (struct.unpack_from(order + "I", data, 28)[0],
                     struct.unpack_from(order + "H", data, 44)[0]))
    size = 56 if wide else 32
    for i in range(min(phnum, 64)):
        base = phoff + i * size
        if base + size > len(data):
            break
        out += range(base, base + size, 4)
        p_type = struct.unpack_from(order + "I", data, base)[0]
        if p_type == 2:  # PT_DYNAMIC: its entries
            off = struct.unpack_from(order + ("Q" if wide else "I"), data,
                                     base + (8 if wide else 4))[0]
            out += [o for o in range(off, off + 512, 8 if wide else 4) if o + 8 <= len(data)]
    return out


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One random mutant of ``data``."""
    buf = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # flips anywhere
        for _ in range(rng.randint(1, 32)):
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # flips in the first 4 KiB (headers, dynamic table, version tables)
        for _ in range(rng.randint(1, 16)):
            i = rng.randrange(min(len(buf), 4096))
            buf[i] = rng.randrange(256)
    elif kind in (2, 3):  # extreme values over structure words
        offsets = _word_offsets(data) or [0]
        for _ in range(rng.randint(1, 4)):
            off = rng.choice(offsets)
            width = rng.choice((2, 4, 8))
            value = rng.choice(EXTREMES) & ((1 << (8 * width)) - 1)
            if off + width <= len(buf):
                buf[off:off + width] = value.to_bytes(width, rng.choice(("little", "big")))
    elif kind == 4:  # truncation
        return bytes(buf[:rng.randrange(1, len(buf))])
    else:  # a chunk copied over another place
        a, b = rng.randrange(len(buf)), rng.randrange(len(buf))
        n = rng.randint(1, 256)
        chunk = buf[a:a + n]
        buf[b:b + len(chunk)] = chunk
    return bytes(buf)


def run(fixtures: Path, count: int, seed: int, timeout: float, keep: Path) -> dict[str, Any]:
    seeds = sorted(p for p in fixtures.rglob("*.so*") if p.is_file() and p.stat().st_size)
    rng = random.Random(seed)
    outcomes = {"facts": 0, "corrupt": 0, "not_elf": 0}
    failures: list[dict[str, Any]] = []
    slowest = 0.0
    signal.signal(signal.SIGALRM, _alarm)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            src = rng.choice(seeds)
            mutant = mutate(src.read_bytes(), rng)
            path = Path(tmp) / f"m{i}.so"
            path.write_bytes(mutant)
            start = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, timeout)
            try:
                result = read_elf(path)
                signal.setitimer(signal.ITIMER_REAL, 0)
            except Hang:
                result = None
                failures.append({"mutant": i, "seed": str(src), "error": "hang"})
            except BaseException as exc:  # any exception escaping read_elf is the finding
                signal.setitimer(signal.ITIMER_REAL, 0)
                result = None
                failures.append({"mutant": i, "seed": str(src),
                                 "error": "".join(traceback.format_exception_only(exc)).strip()})
            slowest = max(slowest, time.perf_counter() - start)
            if isinstance(result, ElfFacts):
                outcomes["facts"] += 1
            elif isinstance(result, CorruptElf):
                outcomes["corrupt"] += 1
            elif isinstance(result, NotElf):
                outcomes["not_elf"] += 1
            elif not failures or failures[-1]["mutant"] != i:
                failures.append({"mutant": i, "seed": str(src), "error": f"answer {result!r}"})
            if failures and failures[-1]["mutant"] == i:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"mutant-{seed}-{i}.so").write_bytes(mutant)
    return {"count": count, "seed": seed, "outcomes": outcomes,
            "slowest_seconds": round(slowest, 4), "failures": failures}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("fixtures", type=Path)
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--per-file-timeout", type=float, default=2.0)
    parser.add_argument("--keep", type=Path, default=Path(tempfile.gettempdir()) / "elf-fuzz")
    args = parser.parse_args(argv)
    summary = run(args.fixtures, args.count, args.seed, args.per_file_timeout, args.keep)
    print(json.dumps(summary))
    return 1 if summary["failures"] else 0


if __name__ == "__main__":
    sys.exit(main())
