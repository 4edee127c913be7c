from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from loopback import LoopbackServer
from webview import ARTIFACTS, Replay, Served, replay, written_artifacts


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


# -- the web view's tests: one replayed database, served once per session --------------


@pytest.fixture(scope="session")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> Replay:
    return replay(tmp_path_factory.mktemp("replay"))


@pytest.fixture(scope="session")
def served(replayed: Replay) -> Iterator[Served]:
    web = Served(replayed.config)
    yield web
    code, err = web.stop()
    assert code == 0, err


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if written_artifacts:
        terminalreporter.write_line(
            f"web view screenshots ({len(written_artifacts)}): {ARTIFACTS}/"
        )
