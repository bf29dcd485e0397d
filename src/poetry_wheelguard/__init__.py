"""poetry-wheelguard: know which file every package was installed from.

The core (``models``, ``distfiles``, ``targets``, ``config``, ``policy``, ``report``,
``elf``, ``loader``, ``verify``, ``installed``, ``index``) never imports an installer; the
pip and Poetry adapters live in ``poetry_wheelguard.pip`` and ``poetry_wheelguard.poetry``.
"""

__version__ = "0.1.0"
