"""Hooks into pip's own choice, for pip 23.0.1 through 26.3 running in this process.

Hook points (each a private pip name, listed with every private attribute read here in
:mod:`.compat` by pip version, feature-detected by :func:`~.compat.detect`; wrapped with
``*args/**kwargs`` so that new keyword arguments pass through untouched):

1. ``pip._internal.index.package_finder.LinkEvaluator.evaluate_link`` - observe. pip calls
   it for every file of every listing it reads (index pages and find-links), compatible
   or not, and returns ``(LinkType, detail)``: the version for a candidate, else its own
   reason (``none of the wheel's tags (...) are compatible``, ``No binaries permitted``,
   ``Requires-Python``...). No extra request is made.
2. ``pip._internal.resolution.resolvelib.candidates.LinkCandidate.__init__`` - gate. The
   resolver creates a ``LinkCandidate`` for a file the moment it commits to it, and the
   constructor is what downloads it (or its PEP 658 metadata), builds the sdist's metadata
   in a build environment, or substitutes a wheel from pip's wheel cache. Every path to
   it (``Factory._make_candidate_from_link``, constraints with links, direct URLs) goes
   through this constructor, with the original ``link`` as its first argument. The
   policy runs here, before the original constructor. A strict refusal raises pip's own
   ``MetadataInconsistent`` (:func:`discard_type`): pip's ``Factory`` discards that
   candidate and the resolver goes on without the file, as ``--only-binary`` would for
   that one project; the refusal stands only when pip finds no solution without it
   (hook 4).
3. ``pip._internal.operations.prepare.RequirementPreparer.prepare_linked_requirement`` -
   backstop: a requirement prepared outside a gated constructor (the legacy resolver,
   ``--use-deprecated=legacy-resolver``) is judged here, before anything is fetched. Its
   ``req.link`` may be a wheel from pip's cache built from an sdist earlier: the source
   link (``cached_wheel_source_link`` on pip >= 24, ``download_info.url`` on 23.x) is
   what is judged, so such an install still counts as an sdist build (``built_locally``).
4. ``pip._internal.resolution.resolvelib.resolver.Resolver.resolve`` (optional) - before
   it runs, in strict mode, the pre-check (:meth:`GuardSession.precheck`): each top-level
   named requirement whose every candidate version would be refused is refused before
   pip prepares anything, so no earlier requirement is downloaded or built first; all of
   them are listed, with the refused dependencies pip's resolver reaches through PEP 658
   metadata alone (:meth:`GuardSession.explore_roots`). Around it: pip's
   ``ResolutionImpossible`` after the gate took files out becomes one refusal of them all
   (:meth:`GuardSession.no_solution`). After it: the final choice, the requirement set pip
   will install, with the files passed over. Decisions taken for candidates the resolver
   later discarded (backtracking) are left out of the report.
5. ``pip._internal.commands.install.InstallCommand.run`` (optional) - pip's parsed
   options (``--target``, ``--prefix``, ``--root``, ``--user``, ``--dry-run``), which
   decide whether post-install verification applies.

What a refusal guarantees: the refused file was not downloaded or built, nothing was
installed, the environment is unchanged. A refusal at the gate can come after pip prepared
the files it committed to before (a dependency is known only from its parent's metadata):
those were downloaded into pip's cache and temporary directories (an sdist's build backend
ran to prepare its metadata), and the refusal message names them.

Refusal: pip catches every exception of its command and turns it into an exit code; a
refusal is therefore raised as a subclass of pip's own ``InstallationError``, which pip
prints as one ``ERROR:`` line and answers with its status 1; :mod:`.cli` then sees the
refusal recorded on the :class:`GuardSession` and exits with ``REFUSED``.

One concern, one module, whatever its length: the guard session inside pip's resolver.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Callable, Optional

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from poetry_wheelguard.config import Config
from poetry_wheelguard.distfiles import DistFile, normalize, platform_info, try_classify
from poetry_wheelguard.models import NormalizedName, PackageRecord, PassedOver, Selection
from poetry_wheelguard.pip import compat
from poetry_wheelguard.pip.compat import (
    BACKSTOP,
    GATE,
    HOOK_POINTS,
    OBSERVE,
    OPTIONS,
    RESOLVED,
    CheckNotes,
    LinkInfo,
    PipApi,
    detect,
    link_yanked,
)
from poetry_wheelguard.pip.selection import (
    CANDIDATE,
    DIRECT,
    HINT_VERDICTS,
    SeenLink,
    build_selection,
    canonical_version,
    clean_url,
    index_of,
    version_key,
)
from poetry_wheelguard.policy import Evaluation, evaluate, passed_over_finding, record_for
from poetry_wheelguard.targets import Target, find_implementation, make_target

__all__ = ["BACKSTOP", "GATE", "HOOK_POINTS", "OBSERVE", "OPTIONS", "RESOLVED", "PipApi",
           "detect", "GuardSession", "installed", "target_from_pip", "top_level_requirements"]

OtherVersions = tuple[tuple[str, tuple[str, ...]], ...]
"""``Selection.other_versions``: ``((version, (filename, ...)), ...)``."""

PRECHECK = "precheck"
"""``Decision.via`` of a refusal by :meth:`GuardSession.precheck` (before pip's resolver)."""

GATE_VIA = "gate"
"""``Decision.via`` of a decision at ``LinkCandidate.__init__``."""


def link_info(link: Any, notes: CheckNotes | None = None) -> LinkInfo:
    """Read a pip ``Link`` into a :class:`~.compat.LinkInfo` (URL credentials removed)."""
    return compat.link_info(link, clean_url, notes)


def url_info(url: str) -> LinkInfo:
    """A :class:`~.compat.LinkInfo` from a bare URL (pip 23.x ``download_info.url``)."""
    return compat.url_info(url, clean_url)


def target_from_pip(target_python: Any, running: Target,
                    notes: CheckNotes | None = None) -> Target:
    """The :class:`Target` pip installs for: ``running`` unless pip was given
    ``--platform``/``--python-version``/``--abi``/``--implementation``.

    With those options the target is built by :func:`~poetry_wheelguard.targets.make_target`
    from pip's ``TargetPython``: the Python version and ABIs as given; Linux platform tags
    of one libc flavour (``manylinux_2_28_x86_64``, ``musllinux_1_2_aarch64``...) give that
    libc at the highest version named, so every older ``manylinux_2_N`` counts as
    compatible (PEP 600) even where pip, matching the given tags exactly, would not take
    it; other platform tags are used as given.
    """
    facts = compat.target_facts(target_python, notes)
    platforms = list(facts.platforms)
    abis = list(facts.abis) or None
    impl = facts.implementation
    if not (platforms or facts.given_version or abis or impl):
        return running
    info = facts.version_info or running.python_version
    version = (int(info[0]), int(info[1] if len(info) > 1 else 0))
    found = find_implementation(str(impl)) if impl else None
    implementation = (found.name if found else str(impl)) if impl else running.implementation
    machine, libc, libc_version = running.machine, running.libc, running.libc_version
    explicit: list[str] | None = None
    if platforms:
        infos = [platform_info(p) for p in platforms]
        libcs = {i.libc for i in infos if i.libc != "unknown"}
        machines = {i.machine for i in infos}
        if all(i.os == "linux" for i in infos) and len(libcs) == 1 and len(machines) == 1:
            libc = libcs.pop()
            machine = machines.pop()
            libc_version = max(i.libc_version for i in infos if i.libc_version is not None)
        else:
            explicit = platforms
            machine = infos[0].machine
            libc, libc_version = "unknown", None
    return make_target(python_version=version, machine=machine, libc=libc,
                       libc_version=libc_version, implementation=implementation, abis=abis,
                       platforms=explicit)


@dataclass(frozen=True)
class _Listed:
    """One file a listing showed, as :meth:`GuardSession.listing` read it: pip's ``Link``,
    its file name, pip's verdict and detail (the version text, or the reason), the
    version (``None`` when it cannot be told) and the parsed file name when it was
    needed for the version."""

    link: Any
    filename: str
    verdict: str
    detail: Any
    version: str | None
    dist: DistFile | None


@dataclass(eq=False)
class Decision:
    """The policy's answer for one file pip committed to.

    Attributes:
        key: the judged link's URL (credentials and fragment removed).
        selection, evaluation: what :func:`poetry_wheelguard.policy.evaluate` saw and said.
        via: ``gate``, ``backstop`` or ``editable`` (recorded from the final set).
        ireq: pip's ``InstallRequirement`` for the candidate once it exists (to match the
            resolver's final set).
    """

    key: str
    selection: Selection
    evaluation: Evaluation
    via: str
    ireq: Any = None
    passed_over: list[PassedOver] | None = None

    def record(self) -> PackageRecord:
        """The report record of this decision, with the refused files of the same project
        pip passed over (and their ``PASSED_OVER`` warning) when there are any."""
        rec = record_for(self.selection, self.evaluation)
        if self.passed_over:
            rec.passed_over = list(self.passed_over)
            finding = passed_over_finding(self.selection.name, self.selection.version,
                                          self.passed_over)
            if finding is not None:
                rec.findings.append(finding)
                if rec.verdict == "ok":
                    rec.verdict = "warn"
        return rec

    def passed(self) -> PassedOver:
        """This (refused) decision as a :class:`~poetry_wheelguard.models.PassedOver`."""
        return PassedOver(self.selection.version, self.selection.chosen.filename,
                          error_codes(self))


class GuardSession:
    """Everything the hooks learn during one ``pip install`` run, and their decisions.

    Args:
        config: the resolved settings (mode, allow-lists, no-build).
        running: the target of the running interpreter (pip's default target).
        refusal: the exception type raised for a strict refusal (a subclass of pip's
            ``InstallationError``; see :func:`refusal_type`).

    Attributes (besides the arguments):
        discard: the exception type the gate raises to take a refused file out of pip's
            choice (a subclass of pip's ``MetadataInconsistent``, which pip's ``Factory``
            answers by discarding the candidate: :func:`discard_type`); ``None``: a strict
            refusal at the gate stops pip (pip lacks the names, or no ``Resolver.resolve``
            hook to learn whether a solution exists without the file).
        passed_over: the refused files the gate took out of pip's choice, in order.
        pending: pre-check refusals held while pip's resolver reads the rest through PEP
            658 metadata only (:meth:`explore_roots`), to list them all in one run.
        specifiers: ``{name: specifier}`` of the top-level requirements and ``-c``
            constraints (pip's objects, combined as pip's resolver combines them).
    """

    def __init__(self, config: Config, running: Target,
                 refusal: type[BaseException] = RuntimeError) -> None:
        self.config = config
        self.running = running
        self.target = running
        self.refusal = refusal
        self._raw: dict[NormalizedName, list[tuple[Any, str, Any]]] = {}
        self._names: dict[str, NormalizedName] = {}
        self._listings: dict[NormalizedName, tuple[int, dict[str, _Listed]]] = {}
        self._versions: dict[Any, str | None] = {}
        self._dists: dict[str, DistFile | None] = {}
        self._indexes: dict[tuple[str | None, str], str] = {}
        self.decisions: list[Decision] = []
        self.by_key: dict[str, Decision] = {}
        self.refused: list[Decision] = []
        self.final: list[Decision] | None = None
        self.options: dict[str, Any] = {}
        self.internal_error: BaseException | None = None
        self.gating = 0
        self.editables: list[str] = []
        self._targets: dict[int, Target] = {}
        self.notes = CheckNotes()
        self.discard: type[BaseException] | None = None
        self.passed_over: list[Decision] = []
        self.pending: list[Decision] = []
        self.exploring = False
        self.specifiers: dict[NormalizedName, str] = {}

    @property
    def passthrough(self) -> tuple[type[BaseException], ...]:
        """The exception types the hooks let through to pip unchanged."""
        return (self.refusal,) if self.discard is None else (self.refusal, self.discard)

    def specifier_for(self, name: NormalizedName, requirement: str = "") -> str:
        """The specifier pip resolves ``name`` under, as far as known here: the top-level
        requirements and constraints of that name (:attr:`specifiers`) and the
        requirement (``requirement``) that made pip look for this file, combined."""
        parts = [text for text in (self.specifiers.get(name, ""), requirement) if text]
        try:
            combined = SpecifierSet(",".join(parts))
        except InvalidSpecifier:
            return self.specifiers.get(name, "")
        return str(combined)

    # -- hook 1: observe -------------------------------------------------------------
    def observe(self, project: str, link: Any, result: Any, detail: Any) -> None:
        """Keep pip's verdict on one listed file (``LinkEvaluator.evaluate_link``) as it
        came: ``(link, verdict, detail)``. Nothing is read from the link, parsed or
        redacted here (pip calls this for every file of every listing, tens of thousands
        per run): :meth:`listing` does that, once per file, only for a project pip
        chose a file of."""
        name = self._names.get(project)
        if name is None:
            name = self._names[project] = normalize(project)
        verdict = getattr(result, "name", None) or (CANDIDATE if result is True else "rejected")
        self._raw.setdefault(name, []).append((link, str(verdict), detail))

    def listing(self, project: NormalizedName) -> dict[str, _Listed]:
        """Every file the listings showed for ``project``, by pip's own URL (the last
        verdict per URL), each read from its pip ``Link`` once: file name, version
        (pip's for a candidate, else the file name's, parsed once per name) and
        verdict. Built on first use and extended with what pip observed since."""
        raw = self._raw.get(project, [])
        done, files = self._listings.get(project, (0, {}))
        for link, verdict, detail in raw[done:]:
            filename = str(getattr(link, "filename", "") or "")
            if not filename:
                continue
            dist = self._dist(filename)  # once per file name
            if dist is not None and dist.name != project:
                continue  # another project's file in a find-links directory (pip skips it)
            version = self._versions.get(detail) if verdict == CANDIDATE else None
            if version is None and verdict == CANDIDATE:
                version = self._versions[detail] = canonical_version(detail)
            if version is None:
                version = str(dist.version) if dist is not None else None
            files[str(getattr(link, "url", "") or "")] = _Listed(link, filename, verdict,
                                                                 detail, version, dist)
        self._listings[project] = (len(raw), files)
        return files

    def _dist(self, filename: str) -> DistFile | None:
        """:func:`~poetry_wheelguard.distfiles.try_classify`, once per file name."""
        if filename not in self._dists:
            self._dists[filename] = try_classify(filename)
        return self._dists[filename]

    def _seen(self, project: NormalizedName, listed: _Listed) -> SeenLink:
        """The full :class:`SeenLink` of one listed file (URL redacted, index worked out
        once per page)."""
        info = link_info(listed.link, self.notes)
        page = info.page
        index = self._indexes.get((page, project))
        if index is None:
            index = self._indexes[(page, project)] = index_of(page, info.url, project)
        dist = listed.dist if listed.dist is not None else self._dist(listed.filename)
        return SeenLink(
            filename=listed.filename, url=info.url, sha256=info.sha256,
            version=listed.version, dist=dist, verdict=listed.verdict,
            reason=None if listed.verdict == CANDIDATE else str(listed.detail),
            requires_python=info.requires_python, yanked=info.yanked, index=index,
        )

    def observed(self, project: NormalizedName, url: str, version: str | None
                 ) -> tuple[SeenLink | None, list[SeenLink], OtherVersions]:
        """What the listings showed for ``project`` around pip's choice of the file at
        ``url`` (credentials removed) as ``version``: ``(the chosen file's SeenLink or
        None, the SeenLinks of the files of that version, other_versions)``.

        Only the chosen version's files are read in full (:meth:`_seen`); the other
        versions give the policy's hint their version and file name, for the files pip
        could install or skipped only for their tags (as
        :func:`~poetry_wheelguard.pip.selection.build_selection` keeps them).
        """
        files = self.listing(project)
        if not files:
            return None, [], ()
        key = version_key(version) if version else None
        same: list[SeenLink] = []
        others: dict[str, dict[str, None]] = {}
        chosen: SeenLink | None = None
        pending: list[_Listed] = []
        for raw_url, listed in files.items():
            if listed.version is not None and key is not None and \
                    version_key(listed.version) == key:
                pending.append(listed)
            elif listed.version and listed.verdict in HINT_VERDICTS and \
                    not link_yanked(listed.link):  # PEP 592: no hint names a yanked file
                others.setdefault(listed.version, {})[listed.filename] = None
            if key is None and chosen is None and clean_url(raw_url) == url:
                chosen = self._seen(project, listed)
        for listed in pending:
            seen = self._seen(project, listed)
            same.append(seen)
            if seen.url == url:
                chosen = seen
        if chosen is None and key is not None:  # listed under another version (rare)
            found = next((listed for raw_url, listed in files.items()
                          if clean_url(raw_url) == url), None)
            chosen = self._seen(project, found) if found is not None else None
        return chosen, same, tuple((v, tuple(f)) for v, f in others.items())

    # -- targets ---------------------------------------------------------------------
    def target_for(self, target_python: Any) -> Target:
        """The target for pip's ``TargetPython`` (cached per object)."""
        if target_python is None:
            return self.running
        key = id(target_python)
        if key not in self._targets:
            self._targets[key] = target_from_pip(target_python, self.running, self.notes)
        self.target = self._targets[key]
        return self.target

    # -- hook 2 and 3: judge ----------------------------------------------------------
    def decide(self, info: LinkInfo, name: str | None, version: Any, *, editable: bool,
               target_python: Any, via: str, substituted: bool = False,
               requirement: str = "") -> Decision:
        """The policy's decision on pip's choice of the file ``info``, not recorded."""
        named = normalize(name) if name else None
        dist = self._dist(info.filename)
        project = named or (dist.name if dist else normalize(info.filename))
        wanted = canonical_version(version) or (str(dist.version) if dist else None)
        observed, same, others = self.observed(project, info.url, wanted)
        if observed is not None and observed.dist is not None:
            dist = observed.dist
        first_party = editable or info.is_vcs or info.is_dir or (info.is_file and observed is None)
        chosen = observed or SeenLink(
            filename=info.filename, url=info.url, sha256=info.sha256,
            version=canonical_version(version) or (str(dist.version) if dist else None),
            verdict=DIRECT, index=index_of(info.page, info.url, project) if info.page else "",
            dist=dist,
        )
        if dist is not None:
            built: bool | None = dist.kind == "sdist" or substituted
        else:
            built = True if first_party else None
        selection = build_selection(project, str(version) if version is not None else None,
                                    chosen, same, first_party=first_party,
                                    built_locally=built,
                                    specifier=self.specifier_for(project, requirement))
        selection = replace(selection, other_versions=others)
        evaluation = evaluate(selection, self.target_for(target_python), self.config)
        return Decision(info.url, selection, evaluation, via)

    def record(self, decision: Decision) -> Decision:
        """Keep ``decision``; return it.

        Raises:
            the ``refusal`` type: strict mode refuses the file (the message says what pip
            had prepared before, see :func:`refusal_message`).
        """
        if decision.evaluation.refused and decision.via == GATE_VIA and \
                self.discard is not None:
            # Take the file out of pip's choice (pip's Factory discards the candidate and
            # looks on); a refusal only if no solution exists without it (resolve hook).
            self.passed_over.append(decision)
            raise self.discard(f"pip-guard: strict mode refused {decision.selection.name} "
                               f"{decision.selection.version} "
                               f"({decision.selection.chosen.filename}): "
                               f"{', '.join(error_codes(decision))}; pip looks for another "
                               "version")
        self.decisions.append(decision)
        self.by_key[decision.key] = decision
        if decision.evaluation.refused:
            self.refused.append(decision)
            raise self.refusal(refusal_message(
                decision, [] if decision.via == PRECHECK else self.prepared_before()))
        return decision

    def refuse(self, decisions: Sequence[Decision], *, no_solution: bool) -> BaseException:
        """Record ``decisions`` as refused and return the one refusal that lists them all
        (to raise). ``no_solution``: pip found no solution without the gate's refusals."""
        for d in decisions:
            if all(d is not r for r in self.refused):
                self.refused.append(d)
            if all(d is not x for x in self.decisions):
                self.decisions.append(d)
                self.by_key[d.key] = d
        return self.refusal(refusal_message(decisions, self.prepared_before(),
                                            no_solution=no_solution))

    def judge(self, info: LinkInfo, name: str | None, version: Any, *, editable: bool,
              target_python: Any, via: str, substituted: bool = False) -> Decision:
        """Evaluate pip's choice of the file ``info`` and record the decision.

        Raises:
            the ``refusal`` type: strict mode refuses the file.
        """
        return self.record(self.decide(info, name, version, editable=editable,
                                       target_python=target_python, via=via,
                                       substituted=substituted))

    def prepared_before(self) -> list[str]:
        """What pip has prepared so far in this run: ``name version`` of every file a gate
        or the backstop let through (pip downloaded it, or its PEP 658 metadata, and ran
        an sdist's build backend for its metadata), and ``name (editable)`` of the
        editable requirements once pip's resolver has started (it prepares them first)."""
        done = [f"{d.selection.name} {d.selection.version}".strip()
                for d in self.decisions if not d.evaluation.refused]
        return list(dict.fromkeys([*done, *self.editables]))

    def gate(self, link: Any, template: Any, factory: Any, name: Any, version: Any) -> Decision:
        """Judge the file a ``LinkCandidate`` is about to be created for.

        While pip reads the rest after a pre-check refusal (:attr:`exploring`), a file
        the policy accepts is let through only when its metadata comes from a PEP 658
        ``.metadata`` file (nothing downloaded or built); otherwise the run stops here
        with the refusals found so far."""
        finder = compat.finder_of(factory, self.notes)
        decision = self.decide(link_info(link, self.notes), str(name) if name else None,
                               version, editable=bool(getattr(template, "editable", False)),
                               target_python=compat.target_python_of(finder), via=GATE_VIA,
                               requirement=compat.requirement_specifier(template))
        if self.exploring and not decision.evaluation.refused and \
                not compat.metadata_without_download(link, self.notes):
            raise self.refuse(self.pending, no_solution=False)
        return self.record(decision)

    def prepared(self, decision: Decision, candidate: Any) -> None:
        """After the candidate exists: its real name and version (a local project's
        are known only now) and its ``InstallRequirement``."""
        facts = compat.candidate_facts(candidate, self.notes)
        if facts is None:  # pip changed shape: the gate's facts stay as they were
            return
        sel = decision.selection
        decision.selection = replace(sel, name=normalize(facts.name),
                                     version=canonical_version(facts.version) or sel.version)
        decision.ireq = facts.ireq

    def backstop(self, req: Any, target_python: Any) -> None:
        """Judge a requirement about to be prepared that no gate saw (legacy resolver)."""
        if self.gating or getattr(req, "editable", False):
            return
        link = getattr(req, "link", None)
        if link is None:
            return
        info = link_info(link, self.notes)
        source = compat.source_info(req, info, clean_url, self.notes)
        if source.url in self.by_key:
            return
        version = None
        specifier = getattr(getattr(req, "req", None), "specifier", None)
        for spec in specifier or ():
            if spec.operator in ("==", "==="):
                version = spec.version
        self.judge(source, getattr(req, "name", None), version, editable=False,
                   target_python=target_python, via="backstop",
                   substituted=source.url != info.url)

    # -- hook 4, before pip's resolver starts: the top-level requirements -------------
    def roots(self, root_reqs: Any) -> None:
        """Note the editable requirements among ``root_reqs`` (pip prepares them as soon
        as its resolver starts, before any gate), and the specifiers of the top-level
        requirements and constraints (:attr:`specifiers`, for the hints)."""
        if isinstance(root_reqs, list) and not self.specifiers:
            try:
                self.specifiers = {name: str(spec) for name, spec
                                   in requirement_specifiers(root_reqs).items()}
            except Exception:  # pip changed shape: hints without the user's specifiers
                self.specifiers = {}
        for ireq in root_reqs if isinstance(root_reqs, list) else ():
            if getattr(ireq, "editable", False):
                name = getattr(ireq, "name", None)
                link = getattr(ireq, "link", None)
                label = str(name) if name else link_info(link).url if link else "?"
                self.editables.append(f"{label} (editable)")

    def precheck(self, factory: Any, root_reqs: Any) -> None:
        """Strict mode, before pip's resolver prepares anything: refuse a top-level named
        requirement (command line, ``-r``) when every version pip could choose for it
        would be refused.

        For each top-level project, with its specifiers and ``--hash`` values combined with
        those of the other top-level requirements and ``-c`` constraints of the same name
        (as pip's ``Factory`` does), pip's own ``PackageFinder.find_best_candidate`` lists
        the applicable files (index pages only, cached by pip for its resolver). The file
        pip would take for each version is the first in pip's order (best first, yanked
        files skipped unless the specifier pins a version that only yanked files have,
        PEP 592), and each is judged like the gate would. The refusal names the version
        pip tries first. A pinned requirement (``==``) has one version, so its refusal is
        the gate's refusal moved before anything else is fetched; with a range, one
        version the policy accepts is enough to leave the decision to the gate.

        Skipped (the gate still judges them when pip commits): requirements with a URL,
        a path or ``-e``, or a URL constraint; projects installed in the environment in a
        version the specifiers admit (pip keeps it unless ``--force-reinstall``);
        everything when pip's ``Factory`` lacks the names read here. A dependency's own
        requirement on a top-level project (``B @ URL`` in ``A``'s metadata) is not
        known here.

        Every top-level requirement is checked, and all the refused ones are listed in one
        refusal. When the gate can take files out of pip's choice (:attr:`discard`), the
        refusal waits while pip's resolver reads the other requirements through PEP 658
        metadata only (:meth:`explore_roots`), so the refused dependencies it reaches are
        listed in the same run.

        Raises:
            the ``refusal`` type: every version of a top-level requirement is refused (and
            :attr:`discard` is ``None``).
        """
        if not self.config.strict:
            return
        finder = compat.finder_of(factory, self.notes)
        installed = compat.installed_dists(factory, self.notes)
        find = compat.find_best_candidate(finder)
        if find is None or installed is None or not isinstance(root_reqs, list):
            if finder is not None and find is None:
                self.notes.miss(RESOLVED, compat.CHECK_PRECHECK)
            return
        force = compat.force_reinstall(factory)
        try:
            wanted = top_level_requirements(root_reqs)
        except Exception:  # pip changed shape: the gate stays the only decision point
            self.notes.miss(RESOLVED, compat.CHECK_PRECHECK)
            return
        refusals: list[Decision] = []
        for name, (specifier, hashes) in wanted.items():
            try:
                dist = None if force else installed.get(name)
                if dist is not None and specifier.contains(dist.version, prereleases=True):
                    continue
                result = find(project_name=name, specifier=specifier, hashes=hashes)
                icans = compat.applicable_candidates(result, self.notes)
                if icans is None:
                    break
                links = _first_link_per_version(icans, _pinned(specifier))
            except self.refusal:
                raise
            except Exception:  # pip reports an unreachable index or a bad name itself
                continue
            first: Decision | None = None
            for version, link in links:
                decision = self.decide(link_info(link, self.notes), name, version,
                                       editable=False,
                                       target_python=compat.target_python_of(finder),
                                       via=PRECHECK, requirement=str(specifier))
                if not decision.evaluation.refused:
                    first = None
                    break
                first = first or decision
            if first is not None:
                refusals.append(first)
        if not refusals:
            return
        if self.discard is None:
            raise self.refuse(refusals, no_solution=False)
        self.pending = refusals

    def explore_roots(self, root_reqs: list[Any]) -> list[Any]:
        """The requirements pip's resolver reads after a pre-check refusal, to reach the
        refused dependencies of the others without downloading or building: ``root_reqs``
        without the refused projects' requirements, editables and URL or path
        requirements (constraints stay)."""
        refused = {d.selection.name for d in self.pending}
        keep = []
        for ireq in root_reqs:
            name = getattr(getattr(ireq, "req", None), "name", None)
            if getattr(ireq, "editable", False) or getattr(ireq, "link", None) is not None:
                continue
            if name is None or (normalize(str(name)) in refused and
                                not getattr(ireq, "constraint", False)):
                continue
            keep.append(ireq)
        return keep

    def explored(self, error: BaseException | None) -> BaseException:
        """The one refusal after pip's resolver read the rest (:meth:`explore_roots`):
        the pre-check refusals, and the gate's when pip found no solution without them
        (``error`` is pip's ``ResolutionImpossible``); to raise."""
        self.exploring = False
        if isinstance(error, self.refusal) and self.refused:
            return error  # stopped at a file whose metadata needs a download
        no_solution = error is not None and compat.resolution_impossible(error)
        found = [*self.pending, *(self.passed_over if no_solution else [])]
        return self.refuse(found, no_solution=no_solution and bool(self.passed_over))

    def no_solution(self, error: BaseException) -> BaseException | None:
        """After pip's resolver failed: the refusal of every file the gate took out of
        pip's choice when no solution exists without them (``error`` comes from
        resolvelib's ``ResolutionImpossible``), else ``None`` (pip's own error stands)."""
        if not self.passed_over or not compat.resolution_impossible(error):
            return None
        return self.refuse(self.passed_over, no_solution=True)

    # -- hook 4: the final set --------------------------------------------------------
    def resolved(self, requirement_set: Any) -> None:
        """Keep the decisions for what pip will finally install, in pip's order."""
        reqs = compat.requirements_to_install(requirement_set, self.notes)
        if reqs is None:
            return
        final: list[Decision] = []
        for req in reqs:
            match = next((d for d in self.decisions if d.ireq is req), None)
            if match is None:
                name = normalize(str(getattr(req, "name", "") or ""))
                match = next((d for d in reversed(self.decisions)
                              if d.selection.name == name), None)
            if match is None:
                match = self._unjudged(req)
            if match is not None and all(m is not match for m in final):
                final.append(match)
        for match in final:
            passed = [d.passed() for d in self.passed_over
                      if d.selection.name == match.selection.name]
            if passed:
                match.passed_over = passed
        self.final = final

    def passed_over_json(self) -> list[dict[str, Any]]:
        """Every file the gate took out of pip's choice, for the report
        (``pip.passed_over``): ``{name, version, filename, codes, installed}``, where
        ``installed`` is the version pip finally chose for the project, ``None`` when it
        installs none (or the run ended before)."""
        final = {d.selection.name: d.selection.version for d in self.final or ()}
        return [{"name": d.selection.name, **d.passed().to_json(),
                 "installed": final.get(d.selection.name)} for d in self.passed_over]

    def _unjudged(self, req: Any) -> Decision | None:
        """A record for a requirement no hook judged: an editable (``EditableCandidate``
        is not gated; editables are first-party and never refused)."""
        if not getattr(req, "editable", False):
            return None
        name = str(getattr(req, "name", "") or "")
        version = compat.editable_version(req, self.notes)
        link = getattr(req, "link", None)
        info = link_info(link) if link is not None else url_info(name)
        chosen = SeenLink(filename=info.filename or name, url=info.url, verdict=DIRECT)
        selection = build_selection(name or info.filename, version, chosen, (),
                                    first_party=True, built_locally=True)
        return Decision(info.url, selection, evaluate(selection, self.target, self.config),
                        "editable")

    def records(self) -> list[PackageRecord]:
        """The report records: pip's final set when known, else every decision taken
        (the latest per project), the refused ones included."""
        if self.final is not None:
            return [d.record() for d in self.final]
        latest: dict[str, Decision] = {}
        for d in self.decisions:
            latest.pop(d.selection.name, None)
            latest[d.selection.name] = d
        return [d.record() for d in latest.values()]


def top_level_requirements(root_reqs: list[Any]) -> dict[NormalizedName, tuple[Any, Any]]:
    """pip's top-level ``InstallRequirement`` objects -> ``{name: (specifier, hashes)}``
    for the named requirements found on an index, in command-line order.

    ``specifier`` (pip's ``SpecifierSet``) and ``hashes`` (pip's ``Hashes``) combine every
    top-level requirement and ``-c`` constraint of that name, as pip's resolver does.
    Requirements whose markers do not apply are left out, as pip leaves them out; so are
    projects named with a URL, a path or ``-e`` anywhere on the command line or in a
    constraint.
    """
    wanted, limits, explicit = _collect(root_reqs)
    for name, (specifier, hashes) in limits.items():
        if name in wanted:
            wanted[name] = (wanted[name][0] & specifier, wanted[name][1] & hashes)
    return {name: value for name, value in wanted.items() if name not in explicit}


def requirement_specifiers(root_reqs: list[Any]) -> dict[NormalizedName, Any]:
    """``{name: specifier}`` (pip's ``SpecifierSet``) of every named top-level
    requirement and ``-c`` constraint whose markers apply, combined per name as pip's
    resolver combines them (constraint-only names included): what pip resolves the
    project under, as far as the command line says."""
    wanted, limits, _explicit = _collect(root_reqs)
    out = {name: spec for name, (spec, _h) in wanted.items()}
    for name, (spec, _h) in limits.items():
        out[name] = out[name] & spec if name in out else spec
    return out


def _collect(root_reqs: list[Any]) -> tuple[dict[NormalizedName, tuple[Any, Any]],
                                            dict[NormalizedName, tuple[Any, Any]],
                                            set[NormalizedName]]:
    """``(requirements, constraints, names with a URL/path/-e)`` of pip's top-level
    ``InstallRequirement`` objects: ``{name: (specifier, hashes)}`` each, combined per
    name; requirements whose markers do not apply left out."""
    wanted: dict[NormalizedName, tuple[Any, Any]] = {}
    limits: dict[NormalizedName, tuple[Any, Any]] = {}
    explicit: set[NormalizedName] = set()
    for ireq in root_reqs:
        if not ireq.match_markers():
            continue
        req = ireq.req
        if req is None:
            continue  # a path or URL without a name: the gate judges it
        name = normalize(str(req.name))
        if ireq.editable or ireq.link is not None:
            explicit.add(name)
            continue
        into = limits if ireq.constraint else wanted
        specifier, hashes = req.specifier, ireq.hashes(trust_internet=False)
        if name in into:
            specifier, hashes = into[name][0] & specifier, into[name][1] & hashes
        into[name] = (specifier, hashes)
    return wanted, limits, explicit


def _pinned(specifier: Any) -> bool:
    """pip's ``is_pinned``: ``===``, or ``==`` without a wildcard (PEP 440, PEP 592)."""
    for spec in specifier:
        if spec.operator == "===" or (spec.operator == "==" and
                                      not str(spec.version).endswith(".*")):
            return True
    return False


def _first_link_per_version(icans: list[Any], pinned: bool) -> list[tuple[Any, Any]]:
    """``(version, link)`` of the file pip's ``Factory`` tries for each version, in pip's
    order: applicable candidates best last, so reversed; the first link per version."""
    all_yanked = all(c.link.is_yanked for c in icans)
    first: dict[Any, Any] = {}
    for ican in reversed(icans):
        if ican.link.is_yanked and not (all_yanked and pinned):
            continue
        first.setdefault(ican.version, ican.link)
    return list(first.items())


def error_codes(decision: Decision) -> tuple[str, ...]:
    """The codes of ``decision``'s error findings, each once, in order."""
    return tuple(dict.fromkeys(f.code for f in decision.evaluation.findings
                               if f.severity == "error"))


def refusal_message(decisions: Decision | Sequence[Decision], before: list[str], *,
                    no_solution: bool = False) -> str:
    """The one line pip prints (as ``ERROR: ...``) when strict mode refuses.

    ``decisions``: the refused files (one, or every refusal known in the run).
    ``before``: what pip had prepared in this run before the refusal
    (:meth:`GuardSession.prepared_before`). Empty: pip had fetched index pages only. Else
    the refused files themselves still were not fetched, and those are named.
    ``no_solution``: pip's resolver found no solution without the gate's refusals.
    """
    many = [decisions] if isinstance(decisions, Decision) else list(decisions)
    files = "; ".join(f"{d.selection.name} {d.selection.version} "
                      f"({d.selection.chosen.filename}): {', '.join(error_codes(d))}"
                      for d in many)
    head = f"pip-guard refused {files}; "
    if no_solution:
        head += "pip found no solution without " + ("it; " if len(many) == 1 else "them; ")
    these = "this file was" if len(many) == 1 else "these files were"
    if not before:
        return head + "no distribution file was downloaded or built and nothing was installed"
    return head + (f"{these} not downloaded or built and nothing was installed; pip "
                   f"had already fetched and prepared the metadata of {', '.join(before)}")


def refusal_type(base: type[Exception]) -> type[Exception]:
    """A ``WheelguardRefusal`` subclass of pip's ``InstallationError`` (``base``): pip
    prints it as one line and exits 1 instead of a traceback."""
    return type("WheelguardRefusal", (base,), {"__module__": __name__})


def discard_type(base: type[Exception]) -> type[Exception]:
    """A ``WheelguardPassOver`` subclass of pip's ``MetadataInconsistent`` (``base``),
    raised by the gate with one message: pip's ``Factory`` logs it (``Discarding ...``,
    with ``-v``), caches the link as a build failure and goes on without the file."""

    def __init__(self: Any, message: str) -> None:
        Exception.__init__(self, message)
        self.message = message

    def __str__(self: Any) -> str:
        return str(self.message)

    return type("WheelguardPassOver", (base,), {"__module__": __name__,
                                                "__init__": __init__, "__str__": __str__})


def _wrap_observe(session: GuardSession, orig: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig)
    def evaluate_link(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = orig(self, *args, **kwargs)
        try:
            verdict, detail = result
            session.observe(str(self.project_name), compat.arg(args, kwargs, 0, "link"),
                            verdict, detail)
        except Exception as exc:
            # A listing pip read but we could not: warn mode goes on (the findings may be
            # incomplete, the CLI says so); strict mode stops rather than judge blind.
            session.internal_error = session.internal_error or exc
            if session.config.strict:
                raise session.refusal(f"pip-guard internal error: {exc!r}") from exc
        return result

    return evaluate_link


def _wrap_gate(session: GuardSession, orig: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        decision = _guarded(session, lambda: session.gate(*(
            compat.arg(args, kwargs, i, n) for i, n in enumerate(GATE.params))))
        session.gating += 1
        try:
            orig(self, *args, **kwargs)
        finally:
            session.gating -= 1
        session.prepared(decision, self)

    return __init__


def _wrap_backstop(session: GuardSession, orig: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig)
    def prepare_linked_requirement(self: Any, *args: Any, **kwargs: Any) -> Any:
        req = compat.arg(args, kwargs, 0, "req")
        target_python = compat.target_python_of(getattr(self, "finder", None))
        _guarded(session, lambda: session.backstop(req, target_python))
        return orig(self, *args, **kwargs)

    return prepare_linked_requirement


def _with_roots(args: tuple[Any, ...], kwargs: dict[str, Any],
                roots: list[Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    if "root_reqs" in kwargs:
        return args, {**kwargs, "root_reqs": roots}
    return (roots, *args[1:]), kwargs


def _wrap_resolved(session: GuardSession, orig: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig)
    def resolve(self: Any, *args: Any, **kwargs: Any) -> Any:
        root_reqs = compat.arg(args, kwargs, 0, "root_reqs")
        _guarded(session, lambda: session.precheck(getattr(self, "factory", None), root_reqs))
        session.roots(root_reqs)
        if session.pending:
            # Pre-check refusals: pip's resolver reads the rest through PEP 658 metadata
            # only (the gate stops at anything else), then one refusal lists them all.
            roots = session.explore_roots(root_reqs)
            error: BaseException | None = None
            if roots:
                session.exploring = True
                args, kwargs = _with_roots(args, kwargs, roots)
                try:
                    orig(self, *args, **kwargs)
                except Exception as exc:
                    error = exc
            raise session.explored(error) from error
        try:
            result = orig(self, *args, **kwargs)
        except session.refusal:
            raise
        except Exception as exc:
            refusal = session.no_solution(exc)
            if refusal is not None:
                raise refusal from exc
            raise
        session.resolved(result)
        return result

    return resolve


def _wrap_options(session: GuardSession, orig: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(orig)
    def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        options = compat.arg(args, kwargs, 0, "options")
        session.options = {
            key: getattr(options, key, None)
            for key in ("target_dir", "prefix_path", "root_path", "use_user_site", "dry_run")
        }
        return orig(self, *args, **kwargs)

    return run


def _guarded(session: GuardSession, call: Callable[[], Any]) -> Any:
    """Run a judging call; an unexpected error becomes a refusal-type error (pip prints
    one line, no traceback) and is kept in ``session.internal_error``."""
    try:
        return call()
    except session.passthrough:
        raise
    except Exception as exc:
        session.internal_error = exc
        raise session.refusal(f"pip-guard internal error: {exc!r}") from exc


_INHERITED = object()

_WRAPPERS: dict[str, Callable[[GuardSession, Callable[..., Any]], Callable[..., Any]]] = {
    OBSERVE.label: _wrap_observe,
    GATE.label: _wrap_gate,
    BACKSTOP.label: _wrap_backstop,
    RESOLVED.label: _wrap_resolved,
    OPTIONS.label: _wrap_options,
}


@contextmanager
def installed(api: PipApi, session: GuardSession) -> Iterator[GuardSession]:
    """Install the hooks of every point ``api`` found for the duration of the block and
    restore pip's own functions after it (also on error).

    Raises:
        RuntimeError: ``api`` is not usable (check :attr:`PipApi.usable` first).
    """
    if not api.usable or api.installation_error is None:
        raise RuntimeError(f"pip hooks unavailable: {', '.join(api.missing)}")
    session.refusal = refusal_type(api.installation_error)
    if session.config.strict:
        if api.discard_error is not None and RESOLVED.label in api.owners:
            session.discard = discard_type(api.discard_error)
        else:
            session.notes.miss(compat.METADATA_INCONSISTENT)
    api.note_missing(session.notes)
    saved: list[tuple[type, str, Any]] = []  # (class, name, own attribute or _INHERITED)
    try:
        for point in HOOK_POINTS:
            owner: Optional[type] = api.owners.get(point.label)
            if owner is None:
                continue
            saved.append((owner, point.attr, owner.__dict__.get(point.attr, _INHERITED)))
            setattr(owner, point.attr, _WRAPPERS[point.label](session, getattr(owner, point.attr)))
        yield session
    finally:
        for owner, attr, orig in reversed(saved):
            if orig is _INHERITED:
                delattr(owner, attr)
            else:
                setattr(owner, attr, orig)
