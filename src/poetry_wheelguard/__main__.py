"""``python -m poetry_wheelguard`` runs the ``pip-guard`` command line."""

from poetry_wheelguard.cli import main

raise SystemExit(main())
