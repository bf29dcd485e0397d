"""The PEP 508 marker environment of a :class:`~poetry_wheelguard.targets.Target`, and
marker evaluation against it (``packaging.markers``).

A target is a Linux system described by facts, not the running interpreter, so the
environment is built from those facts (:func:`marker_environment`) rather than from
``packaging.markers.default_environment()``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache

from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

from poetry_wheelguard.errors import WheelguardError
from poetry_wheelguard.targets import Target, find_implementation


def marker_environment(target: Target) -> dict[str, str]:
    """The PEP 508 marker environment of ``target`` (a Linux system).

    ``python_full_version`` is ``X.Y.0``, as pip takes ``--python-version X.Y``;
    ``platform_python_implementation`` is the implementation's
    :attr:`~poetry_wheelguard.targets.Implementation.marker_name` (``CPython``).
    """
    major, minor = target.python_version
    impl = find_implementation(target.implementation)
    return {
        "implementation_name": target.implementation,
        "implementation_version": f"{major}.{minor}.0",
        "os_name": "posix",
        "platform_machine": target.machine,
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{major}.{minor}.0",
        "platform_python_implementation": impl.marker_name if impl else target.implementation,
        "python_version": f"{major}.{minor}",
        "sys_platform": "linux",
        "extra": "",
    }


@lru_cache(maxsize=4096)
def _marker(text: str) -> Marker:
    return Marker(text)


def marker_holds(text: str | None, env: Mapping[str, str],
                 extras: Iterable[str] = (), where: str = "") -> bool:
    """True when the PEP 508 marker ``text`` holds in ``env`` for no extra or for any of
    ``extras`` (``extra == "x"``). An empty marker always holds.

    Raises:
        WheelguardError: the marker is not valid PEP 508 (names ``where``).
    """
    if not text or not text.strip():
        return True
    try:
        marker = _marker(text)
        return any(marker.evaluate({**env, "extra": e}) for e in ("", *extras))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]  # no caret lines
        raise WheelguardError(f"invalid environment marker {text!r} ({first})",
                              filename=where or None) from exc
