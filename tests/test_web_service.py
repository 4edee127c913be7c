"""The web view inside `watcher run` ([web] listen), and in `watcher demo --serve`."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import WATCHER
from tests.support.checks import ARTICLE, rss
from tests.support.daemon import Daemon, NotifyListener, fast_config, status, wait_for
from tests.support.loopback import LoopbackServer
from tests.support.webview import read_url

pytestmark = pytest.mark.slow

TOKEN_ENV = "WATCHER_TEST_WEB_TOKEN"
TOKEN = "daemon-web-token-1234"


@pytest.fixture
def notify_socket(tmp_path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(tmp_path / "notify.sock")
    yield listener
    listener.close()


def with_web(config: Path, web: str) -> Path:
    config.write_text(config.read_text() + f"\n[web]\n{web}\n")
    return config


def test_daemon_serves_the_web_view_and_stops_it_with_itself(
    tmp_path: Path,
    server: LoopbackServer,
    notify_socket: NotifyListener,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    server.route("/a/one.html", ARTICLE.format(title="Story one", day=1))
    config = with_web(
        fast_config(tmp_path, server), f'listen = "127.0.0.1:0"\ntoken_env = "{TOKEN_ENV}"'
    )
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    daemon = Daemon(config, notify_socket.path)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        url = wait_for(lambda: (status(config)["daemon"] or {}).get("web"), 20, "the web view")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", str(url))
        wait_for(lambda: server.hits("/a/one.html"), 15, "the first poll")
        assert httpx.get(f"{url}api/status", timeout=10).status_code == 401
        sources = wait_for(
            lambda: [
                s
                for s in httpx.get(f"{url}api/status", headers=auth, timeout=10).json()["sources"]
                if s["items_seen"]
            ],
            10,
            "the poll to show in the web view",
        )
        assert sources[0]["name"] == "wire"
        page = httpx.get(str(url), headers=auth, timeout=10)
        assert page.status_code == 200 and "US withdrawal deadline" in page.text
        metrics = httpx.get(f"{url}metrics", headers=auth, timeout=10).text
        assert re.search(r'watcher_polls_total\{outcome="\w+",source="wire"\} [1-9]', metrics)
        # A reload keeps the view up, on the reloaded config.
        config.write_text(config.read_text().replace('name = "wire"', 'name = "renamed"'))
        daemon.process.send_signal(signal.SIGHUP)
        wait_for(
            lambda: (
                "renamed"
                in [
                    s["name"]
                    for s in httpx.get(f"{url}api/status", headers=auth, timeout=10).json()[
                        "sources"
                    ]
                ]
            ),
            10,
            "the reloaded config in the web view",
        )
    finally:
        code, err = daemon.stop()
    assert code == 0, err
    assert f"web view on {url}" in err
    assert TOKEN not in err
    with pytest.raises(httpx.ConnectError):
        httpx.get(str(url), timeout=2)
    stopped = status(config)["daemon"]
    assert stopped["stopped"] and stopped["web"] == url
    text = subprocess.run(
        [*WATCHER, "status", "--config", str(config)], capture_output=True, text=True
    ).stdout
    assert "web view" not in text  # the daemon stopped: its view with it


def test_daemon_refuses_to_start_its_view_beyond_loopback_without_a_token(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.route("/feed.xml", rss(server.base_url))
    config = with_web(fast_config(tmp_path, server), 'listen = "0.0.0.0:8080"')
    result = subprocess.run(
        [*WATCHER, "run", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line == (
        f"watcher: error: {config}: web: listen = '0.0.0.0:8080' is not a loopback address: "
        "set web.token_env too, so that every request needs a token"
    )
    assert server.hits("/feed.xml") == 0


def test_daemon_with_its_port_taken_stops_in_one_line(
    tmp_path: Path, server: LoopbackServer
) -> None:
    server.route("/feed.xml", rss(server.base_url))
    port = int(server.base_url.rsplit(":", 1)[1])  # taken by the news site itself
    config = with_web(fast_config(tmp_path, server), f'listen = "127.0.0.1:{port}"')
    result = subprocess.run(
        [*WATCHER, "run", "--config", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"watcher: error: web: 127.0.0.1:{port}: cannot listen: Address already in use"
    )


def test_demo_serves_its_database_until_interrupted(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [*WATCHER, "demo", "--serve", "--output", str(tmp_path / "out")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env={k: v for k, v in os.environ.items() if k != "WATCHER_CONFIG"},
    )
    try:
        url = read_url(process, "Web view of the demo: ", timeout=120)
        changes = httpx.get(url + "/api/changes", timeout=10).json()["changes"]
        # The demo's own changes (tests/test_demo.py has them all).
        assert {
            ("bases.air_base_201.status", "handed over", "confirmed"),
            ("us_forces.withdrawal_status", "completed", "confirmed"),
        } <= {(c["key"], c["new"], c["status"]) for c in changes}
        assert "Air Base 201 (Agadez)" in httpx.get(url + "/changes", timeout=10).text
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert process.returncode == 0
