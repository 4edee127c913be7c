from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# `watcher` imports its commands once the arguments are parsed. Imported here, before
# any test freezes time: pydantic models first built under freezegun see its FakeDate
# in place of datetime.date and cannot be built.
import watcher.cli.alerts
import watcher.cli.check
import watcher.cli.database
import watcher.cli.facts
import watcher.cli.service  # noqa: F401
from tests.support.hostile import WATCHER_DIR, RawServer, serve_good, stored, write_config
from tests.support.loopback import LoopbackServer
from tests.support.pgcluster import TEMPLATE, Cluster, Unavailable
from tests.support.webview import ARTIFACTS, Replay, Served, replay, written_artifacts
from watcher.cli.main import main


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer().start()
    try:
        yield srv
    finally:
        srv.stop()


# -- the state database: SQLite, and PostgreSQL where one can be started ------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throw-away PostgreSQL server for the session, with a template database at the
    current schema; the tests that need it are skipped, saying why, where none can run."""
    try:
        cluster = Cluster.start_new()
    except Unavailable as exc:
        pytest.skip(f"PostgreSQL: {exc}")
    try:
        from watcher.store import open_store

        with cluster.connect() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}"')
            conn.execute(f'CREATE DATABASE "{TEMPLATE}"')
        open_store(cluster.url(TEMPLATE)).close()
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture
def postgres_url(postgres: Cluster) -> Iterator[str]:
    """A database of its own on the session's server, at the current schema."""
    name = postgres.create_database(template=TEMPLATE)
    yield postgres.url(name)
    postgres.drop_database(name)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)],
)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The state database's URL, once for each backend: an SQLite file, a PostgreSQL
    database at the current schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/state.db"
    return request.getfixturevalue("postgres_url")


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


# -- hostile sources (test_hostile, test_attacks) -------------------------------------


@pytest.fixture
def raw() -> Iterator[Callable[[Callable[[socket.socket], None]], RawServer]]:
    """Start TCP servers that answer with ``reply`` (for what no HTTP server would send)."""
    started: list[RawServer] = []

    def start(reply: Callable[[socket.socket], None]) -> RawServer:
        started.append(RawServer(reply))
        return started[-1]

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def check(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> Callable[..., dict[str, Any]]:
    """Run one pass over ``good`` and ``hostile``; return the hostile source's report."""

    def run(
        hostile_url: str,
        http: dict[str, Any] | None = None,
        articles_settings: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        config = write_config(
            tmp_path,
            {"good": serve_good(server), "hostile": hostile_url},
            http,
            articles_settings,
        )
        code = main(["check", "--config", str(config), "--json"])
        captured = capsys.readouterr()
        report = json.loads(captured.out)
        # The loopback server's threads may print tracebacks of their own when
        # a client hangs up on them; none may come from watcher.
        assert "unexpected error" not in captured.err
        assert f'File "{WATCHER_DIR}' not in captured.err
        by_name = {source["name"]: source for source in report["sources"]}
        good, hostile = by_name["good"], by_name["hostile"]
        assert good["status"] == "new", good
        assert [a["title"] for a in good["articles"]] == ["Good story"]
        assert stored(tmp_path).get("good") == ["Good story"]
        assert code == 1  # something new, and not every source failed
        for text in (hostile["error"], *(f["reason"] for f in hostile["failures"])):
            assert "internal error" not in (text or "")
        return hostile

    return run
