"""The pip front-end: ``pip-guard install <pip install arguments>``.

pip runs in this process with hooks into its own choice (:mod:`.hooks`): every link pip's
``LinkEvaluator`` judges is observed, every file pip commits to (``LinkCandidate``) is
judged by :func:`poetry_wheelguard.policy.evaluate` before pip downloads, builds or
prepares it, and a refusal in strict mode stops pip there. When a private pip name the
hooks need is missing, :mod:`.subprocess_mode` runs pip's public interface instead
(``pip install --dry-run --report``, index listing, then ``pip install``). docs/pip.md
describes both modes, the hook points per pip version and the exit codes.

Modules: :mod:`.selection` (plain data: pip's observations -> ``Selection``; no pip
import), :mod:`.hooks` (the in-process hooks), :mod:`.subprocess_mode` (the fallback),
:mod:`.cli` (``run_install``).
"""
