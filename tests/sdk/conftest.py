"""Fixtures: a roomdeck server for the whole session, extra servers on demand, a room per test."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from helpers import RoomdeckServer


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One `roomdeck serve` shared by the session; it must exit 0 on SIGTERM at the end."""
    base = tmp_path_factory.mktemp("roomdeck")
    srv = RoomdeckServer(data_dir=base / "data", log_path=base / "roomdeck.log").start()
    yield srv
    code = srv.stop()
    assert code == 0, f"roomdeck serve exited with {code} after SIGTERM (None = still running)\n{srv.log_tail()}"


@pytest.fixture
def start_server(tmp_path: Path):
    """A factory for servers of the test's own: `start_server(data_dir, env)`. Any still running
    at the end are stopped with SIGTERM."""
    started: list[RoomdeckServer] = []

    def start(data_dir: Path | None = None, env: dict[str, str] | None = None) -> RoomdeckServer:
        n = len(started)
        srv = RoomdeckServer(
            data_dir=data_dir or tmp_path / f"data{n}", log_path=tmp_path / f"roomdeck{n}.log", env=env
        ).start()
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.running:
            srv.stop()


@pytest.fixture
def room(request: pytest.FixtureRequest) -> str:
    """A room of the test's own, named after it, so tests never see each other's state."""
    return re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:64]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """On failure, attach the server's output: it usually says what went wrong."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        srv = getattr(item, "funcargs", {}).get("server")
        if isinstance(srv, RoomdeckServer):
            report.sections.append(("roomdeck server", srv.log_tail()))
