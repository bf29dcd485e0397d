"""Shared fixtures: the local fixture index (built once per session) and its server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.env import isolate_process
from tests.support.index import IndexServer
from tests.support.projects import FixtureIndex, build_fixture_index

CACHE = Path(__file__).parent / ".cache"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``WHEELGUARD_TEST_OFFLINE=1`` skips the tests that need the public index."""
    if os.environ.get("WHEELGUARD_TEST_OFFLINE") == "1":
        skip = pytest.mark.skip(reason="WHEELGUARD_TEST_OFFLINE=1")
        for item in items:
            if "network" in item.keywords:
                item.add_marker(skip)


@pytest.fixture(scope="session")
def fixture_index(tmp_path_factory: pytest.TempPathFactory) -> FixtureIndex:
    """Every fixture project of tests/support/projects.py in a static PEP 503 tree."""
    work = tmp_path_factory.mktemp("fixture-index")
    return build_fixture_index(work / "tree", CACHE / "seed", work)


@pytest.fixture(scope="session")
def index_server(fixture_index: FixtureIndex) -> Iterator[IndexServer]:
    """The fixture index served on 127.0.0.1 (no authentication)."""
    with fixture_index.index.serve() as server:
        yield server


@pytest.fixture(scope="session")
def auth_index_server(fixture_index: FixtureIndex) -> Iterator[IndexServer]:
    """The fixture index behind HTTP basic auth (user ``wg-user``, password ``s3cr3t-token``)."""
    with fixture_index.index.serve(auth=("wg-user", "s3cr3t-token")) as server:
        yield server


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs without this machine's pip configuration and wheelguard settings
    (:func:`tests.support.env.isolate_process`)."""
    isolate_process(monkeypatch)


@pytest.fixture(autouse=True)
def _clean_markers(request: pytest.FixtureRequest) -> Iterator[None]:
    """Remove sdist-build marker files before each test that uses the fixture index, so
    each test sees its own (tests that do not use it do not build it)."""
    if "fixture_index" in request.fixturenames:
        fixture_index: FixtureIndex = request.getfixturevalue("fixture_index")
        for marker in fixture_index.markers.glob("*.built"):
            marker.unlink()
    yield
