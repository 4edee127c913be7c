"""The web view's JSON API, metrics and safety, against `watcher serve` as a real process
serving a database filled by real `watcher check` runs (see webview.py)."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import WATCHER
from tests.support.webview import Replay, Served
from watcher.cli.main import main
from watcher.config import load_config, parse_config
from watcher.facts.stories import load_stories
from watcher.store import open_store
from watcher.web import pages
from watcher.web.server import start_web

pytestmark = pytest.mark.slow

CSP = "default-src 'none'"


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def copy_of(replayed: Replay, folder: Path) -> Path:
    """The replay's config and database, copied to ``folder``, for a test that changes them."""
    config = folder / "watcher.toml"
    config.write_text(replayed.config.read_text())
    with (
        sqlite3.connect(replayed.config.parent / "state.db") as source,
        sqlite3.connect(folder / "state.db") as target,
    ):
        source.backup(target)
    return config


def get(served: Served, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(served.url + path, timeout=10, **kwargs)


# -- the API serves what the --json commands print ---------------------------------------


@pytest.mark.parametrize(
    ("path", "command"),
    [
        ("/api/facts", ["facts"]),
        ("/api/facts/us_forces.troop_count", ["facts", "us_forces.troop_count"]),
        ("/api/status", ["status"]),
        ("/api/outbox", ["outbox"]),
    ],
)
def test_api_mirrors_the_json_commands(
    served: Served,
    replayed: Replay,
    capsys: pytest.CaptureFixture[str],
    path: str,
    command: list[str],
) -> None:
    response = get(served, path)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == cli_json(capsys, *command, "--config", str(replayed.config))


def test_api_changes_are_the_changes_of_watcher_facts(
    served: Served, replayed: Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    facts = cli_json(capsys, "facts", "--config", str(replayed.config))
    assert get(served, "/api/changes").json() == {"changes": facts["changes"]}
    # Every change the checks reported is there, once, with its evidence.
    served_changes = {c["change_id"]: c for c in facts["changes"]}
    for reported in replayed.changes:
        stored = served_changes[reported["change_id"]]
        assert (stored["key"], stored["old"], stored["new"]) == (
            reported["key"],
            reported["old"],
            reported["new"],
        )
    only = get(served, "/api/changes", params={"fact": "bases.air_base_201.status"}).json()
    assert only["changes"] and {c["key"] for c in only["changes"]} == {"bases.air_base_201.status"}
    story = get(served, "/api/changes", params={"story": "niger-us-withdrawal"}).json()
    assert story == {"changes": facts["changes"]}
    assert get(served, "/api/changes", params={"story": "another"}).json() == {"changes": []}


def test_unknown_fact_is_a_json_404_in_one_line(served: Served) -> None:
    for path, params in (("/api/facts/no.such", {}), ("/api/changes", {"fact": "no.such"})):
        response = get(served, path, params=params)
        assert response.status_code == 404
        error = response.json()["error"]
        assert "no.such" in error and "\n" not in error
    assert get(served, "/api/nothing").json() == {"error": "/api/nothing: not found"}


def test_api_answers_304_to_a_matching_etag(served: Served) -> None:
    first = get(served, "/api/facts")
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"] == "no-cache"
    again = get(served, "/api/facts", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["content-security-policy"].startswith(CSP)
    # A list of tags, a weak tag and * match too; another tag does not.
    for header in (f'"other", {etag}', f"W/{etag}", "*"):
        assert get(served, "/api/facts", headers={"If-None-Match": header}).status_code == 304
    other = get(served, "/api/facts", headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == first.content
    # Each document has its own tag.
    assert get(served, "/api/status").headers["etag"] != etag


def test_etag_changes_when_the_data_does(tmp_path: Path, replayed: Replay) -> None:
    """A new pass changes what /api/status says, so the old tag no longer matches."""
    copy = copy_of(replayed, tmp_path)
    web = Served(copy)
    try:
        before = get(web, "/api/status")
        # The replay's sites are gone: this pass fails, and status says so.
        result = subprocess.run(
            [*WATCHER, "check", "--config", str(copy), "--no-send"], capture_output=True, text=True
        )
        assert result.returncode in (1, 2), result.stderr
        after = get(web, "/api/status", headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        failures = {s["name"]: s["consecutive_failures"] for s in after.json()["sources"]}
        earlier = {s["name"]: s["consecutive_failures"] for s in before.json()["sources"]}
        assert failures == {name: count + 1 for name, count in earlier.items()}
    finally:
        code, err = web.stop()
    assert code == 0, err


def test_openapi_describes_the_api(served: Served) -> None:
    schema = get(served, "/api/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/facts", "/api/facts/{key}", "/api/changes", "/api/status", "/api/outbox"} <= set(
        schema["paths"]
    )
    assert "304" in json.dumps(schema["paths"]["/api/facts"])


# -- metrics -------------------------------------------------------------------------------


def metrics(served: Served) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample of /metrics, parsed by prometheus-client, by name then by labels."""
    response = get(served, "/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = tuple(sorted(sample.labels.items()))
            found.setdefault(sample.name, {})[labels] = sample.value
    return found


def test_metrics_count_what_the_checks_reported(
    served: Served, replayed: Replay, capsys: pytest.CaptureFixture[str]
) -> None:
    found = metrics(served)
    reports = [s for check in replayed.checks for s in check["sources"]]
    polls = Counter((s["name"], s["status"]) for s in reports)
    assert found["watcher_polls_total"] == {
        (("outcome", outcome), ("source", name)): float(n) for (name, outcome), n in polls.items()
    }
    # The missing feed: every poll failed with an HTTP status.
    assert found["watcher_poll_failures_total"] == {
        (("reason", "http_status"), ("source", "site2")): float(len(replayed.checks))
    }
    articles = Counter()
    for report in reports:
        articles[report["name"]] += len(report["articles"])
    assert {labels: n for labels, n in found["watcher_articles_total"].items() if n} == {
        (("source", name),): float(n) for name, n in articles.items() if n
    }
    # The gone page: one failed fetch in each pass.
    assert found["watcher_article_failures_total"] == {
        (("reason", "http_status"), ("source", "site0")): float(len(replayed.checks))
    }
    events = Counter((c["key"], c["event"]) for c in replayed.changes)
    assert found["watcher_changes_total"] == {
        (("event", event), ("key", key)): float(n) for (key, event), n in events.items()
    }
    assert sum(found["watcher_facts_read_total"].values()) >= len(replayed.changes)
    # One pass per `watcher check`; every bucket counts at most all of them, +Inf all.
    assert found["watcher_pass_duration_seconds_count"][()] == len(replayed.checks)
    buckets = found["watcher_pass_duration_seconds_bucket"]
    assert buckets[(("le", "+Inf"),)] == len(replayed.checks)
    counts = [n for _, n in sorted(buckets.items(), key=lambda item: float(item[0][0][1]))]
    assert counts == sorted(counts)
    took = sum(
        (
            datetime.fromisoformat(c["finished"]) - datetime.fromisoformat(c["started"])
            for c in replayed.checks
        ),
        timedelta(),
    )
    # Each pass is timed from its start to its last write: a little after its report ends.
    assert 0 < found["watcher_pass_duration_seconds_sum"][()] <= took.total_seconds() + 1

    outbox = cli_json(capsys, "outbox", "--config", str(replayed.config))["alerts"]
    pending = Counter(a["channel"] for a in outbox if a["state"] == "pending")
    alerts = found["watcher_alerts"]
    for channel, count in pending.items():
        assert alerts[(("channel", channel), ("state", "pending"))] == count
    assert alerts[(("channel", "slack"), ("state", "sent"))] == sum(
        1 for c in replayed.changes if "slack" in c["alerts"]
    )
    assert found["watcher_outbox_depth"][()] == sum(pending.values())
    health = found["watcher_source_health"]
    assert health[(("source", "site2"), ("state", "ok"))] == 1.0  # failing after 5 in a row
    consecutive = found["watcher_source_consecutive_failures"][(("source", "site2"),)]
    assert consecutive == len(replayed.checks)
    assert (("source", "site0"),) in found["watcher_source_last_success_timestamp_seconds"]
    assert (("source", "site2"),) not in found["watcher_source_last_success_timestamp_seconds"]


# -- safety --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/changes", "/api/facts", "/metrics", "/nothing"])
def test_every_response_carries_a_strict_policy(served: Served, path: str) -> None:
    response = get(served, path)
    policy = response.headers["content-security-policy"]
    assert policy.startswith(CSP)
    assert "script-src" not in policy and "unsafe" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_nothing_can_be_written(served: Served, method: str) -> None:
    for path in ("/", "/api/facts", "/api/outbox", "/metrics", "/static/watcher.css"):
        response = httpx.request(method, served.url + path, timeout=10)
        assert response.status_code == 405, path
        assert response.headers["content-security-policy"].startswith(CSP)


def test_non_loopback_address_without_a_token_refuses_to_start(replayed: Replay) -> None:
    result = subprocess.run(
        [*WATCHER, "serve", "--config", str(replayed.config), "--listen", "0.0.0.0:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("watcher: error: web: 0.0.0.0:0 is not a loopback address")
    assert "web.token_env" in line


def test_non_loopback_listen_in_the_config_needs_a_token(tmp_path: Path) -> None:
    from watcher.config import ConfigError

    with pytest.raises(ConfigError, match=r"web: listen = '0.0.0.0:8080' is not a loopback"):
        parse_config({"web": {"listen": "0.0.0.0:8080"}}, tmp_path / "w.toml")
    for fine in ({"listen": "127.0.0.1:8080"}, {"listen": "[::1]:80"}, {"listen": "localhost:1"}):
        assert parse_config({"web": fine}, tmp_path / "w.toml").web.listen == fine["listen"]
    with_token = {"listen": "0.0.0.0:8080", "token_env": "WATCHER_WEB_TOKEN"}
    assert parse_config({"web": with_token}, tmp_path / "w.toml").web.token_env


def test_token_is_required_once_configured(tmp_path: Path, replayed: Replay) -> None:
    config = tmp_path / "watcher.toml"
    state = replayed.config.parent / "state.db"
    config.write_text(
        replayed.config.read_text().replace('path = "state.db"', f'path = "{state}"')
        + '\n[web]\ntoken_env = "WATCHER_TEST_WEB_TOKEN"\n'
    )
    missing = subprocess.run(
        [*WATCHER, "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "WATCHER_TEST_WEB_TOKEN"},
    )
    assert missing.returncode == 2
    assert missing.stderr.strip() == (
        "watcher: error: web.token_env: environment variable WATCHER_TEST_WEB_TOKEN "
        "is not set, or empty"
    )
    token = "s3cret-token-for-tests"
    env = {**os.environ, "WATCHER_TEST_WEB_TOKEN": token}
    # Beyond loopback with a token: it starts (and is reached here on 127.0.0.1).
    web = Served(config, "--listen", "0.0.0.0:0", env=env)
    try:
        url = web.url.replace("0.0.0.0", "127.0.0.1")
        for path in ("/", "/api/facts", "/metrics", "/static/watcher.css"):
            denied = httpx.get(url + path, timeout=10)
            assert denied.status_code == 401
            assert denied.headers["www-authenticate"].startswith("Basic")
            assert denied.headers["content-security-policy"].startswith(CSP)
            wrong = httpx.get(url + path, headers={"Authorization": "Bearer nope"}, timeout=10)
            assert wrong.status_code == 401
            bearer = httpx.get(url + path, headers={"Authorization": f"Bearer {token}"}, timeout=10)
            assert bearer.status_code == 200
            basic = base64.b64encode(f"anyone:{token}".encode()).decode()
            assert httpx.get(url + path, headers={"Authorization": f"Basic {basic}"}).is_success
    finally:
        code, err = web.stop()
    assert code == 0
    assert token not in err


def test_port_in_use_is_one_line(replayed: Replay) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [*WATCHER, "serve", "--config", str(replayed.config), "--listen", f"127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"watcher: error: web: 127.0.0.1:{port}: cannot listen: Address already in use"
    )


def test_serve_stops_cleanly_on_sigint(replayed: Replay) -> None:
    web = Served(replayed.config)
    assert get(web, "/api/status").status_code == 200
    web.process.send_signal(signal.SIGINT)
    web.process.wait(timeout=15)
    assert web.process.returncode == 0


def test_changes_page_comes_in_pages_newest_first(
    replayed: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pages, "CHANGES_PER_PAGE", 4)
    config = load_config(replayed.config)
    store = open_store(config.database_url())
    server = start_web(config, store, load_stories(config), listen="127.0.0.1:0", environ={})
    try:
        everything = httpx.get(server.url + "api/changes", timeout=10).json()["changes"]
        newest_first = [c["change_id"] for c in reversed(everything)]
        assert len(newest_first) > 4

        def shown(query: str) -> tuple[list[int], str]:
            text = httpx.get(server.url + "changes" + query, timeout=10).text
            return [int(n) for n in re.findall(r'id="change-(\d+)"', text)], text

        first, text = shown("")
        assert first == newest_first[:4]
        assert f"{len(newest_first)} changes, newest first; 1 to 4 here." in text
        assert 'href="/changes?fact=&amp;story=&amp;page=2">older →' in text
        second, text = shown("?page=2")
        assert second == newest_first[4:8]
        assert "← newer" in text
        assert shown("?page=99")[0] == second  # past the end: the last page
        assert shown("?page=nonsense")[0] == first
    finally:
        server.stop()
        store.close()


def test_an_unreadable_database_is_a_503_and_the_view_goes_on(
    tmp_path: Path, replayed: Replay, caplog: pytest.LogCaptureFixture
) -> None:
    copy = copy_of(replayed, tmp_path)
    database = tmp_path / "state.db"
    config = load_config(copy)
    store = open_store(config.database_url())
    server = start_web(config, store, load_stories(config), listen="127.0.0.1:0", environ={})
    try:
        assert httpx.get(server.url + "api/status", timeout=10).status_code == 200
        good = database.read_bytes()
        # The file is replaced by one that is not a database; connections made from now on fail.
        database.write_bytes(b"not a database " * 100)
        store.engine.dispose()
        for path in ("api/status", "", "changes", "metrics"):
            response = httpx.get(server.url + path, timeout=10)
            assert response.status_code == 503, path
            assert response.text.startswith("state database unavailable: ")
            assert response.headers["content-security-policy"].startswith(CSP)
        errors = [r.getMessage() for r in caplog.records if r.name == "watcher.web.app"]
        assert errors and all("\n" not in e and "state database unavailable" in e for e in errors)
        database.write_bytes(good)
        store.engine.dispose()
        assert httpx.get(server.url + "api/status", timeout=10).status_code == 200
    finally:
        server.stop()
        store.close()
