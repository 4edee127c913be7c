"""`watcher check` end to end against real feeds and pages on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.checks import ARTICLE, rss, run, serve_articles, with_etag, write_config
from tests.support.loopback import LoopbackServer, Response
from watcher.cli.main import main


@pytest.mark.slow
def test_second_pass_uses_conditional_get_and_fetches_no_page_again(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", with_etag(rss(server.base_url, "one", "two")))
    serve_articles(server, "one", "two")
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})

    code, report = run(config, capsys)
    assert code == 1
    [source] = report["sources"]
    assert source["status"] == "new"
    assert sorted(a["title"] for a in source["articles"]) == ["Story one", "Story two"]
    assert all("pack equipment" in a["text"] for a in source["articles"])

    code, report = run(config, capsys)
    assert code == 0
    assert report["sources"][0]["status"] == "not_modified"
    assert report["new_articles"] == 0
    assert server.requests[-1].headers.get("if-none-match") == '"v1"'
    assert server.hits("/a/one.html") == 1 and server.hits("/a/two.html") == 1


@pytest.mark.slow
def test_feed_ignoring_conditional_get_is_not_parsed_again(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    serve_articles(server, "one")
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    run(config, capsys)
    code, report = run(config, capsys)
    assert (code, report["sources"][0]["status"]) == (0, "unchanged")


@pytest.mark.slow
def test_new_item_in_a_later_pass_is_the_only_article_fetched(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    serve_articles(server, "one", "two")
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    run(config, capsys)
    server.route("/feed.xml", rss(server.base_url, "two", "one"))
    code, report = run(config, capsys)
    assert code == 1
    assert [a["title"] for a in report["sources"][0]["articles"]] == ["Story two"]
    assert server.hits("/a/one.html") == 1


@pytest.mark.slow
def test_broken_sources_fail_alone_with_a_reason(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/good.xml", rss(server.base_url, "one"))
    serve_articles(server, "one")
    server.route("/500.xml", Response(b"oops", 500))
    server.route("/slow.xml", Response(rss(server.base_url).encode(), delay=2.5))
    server.route("/html.xml", "<html><body><p>This is a web page, not a feed.</p></body></html>")
    server.route("/big.xml", rss(server.base_url, "big"))
    server.route("/a/big.html", ARTICLE.format(title="Big", day=1) + "<!--" + "x" * 20_000 + "-->")
    config = write_config(
        tmp_path,
        server,
        {
            "good": "/good.xml",
            "error": "/500.xml",
            "slow": "/slow.xml",
            "html": "/html.xml",
            "big": "/big.xml",
        },
        max_bytes=10_000,
    )
    code, report = run(config, capsys)
    assert code == 1
    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["good"]["status"] == "new"
    assert by_name["error"]["status"] == "failed" and "500" in by_name["error"]["error"]
    assert by_name["slow"]["status"] == "failed" and "timed out" in by_name["slow"]["error"]
    assert (
        by_name["html"]["status"] == "failed"
        and "not an RSS or Atom feed" in by_name["html"]["error"]
    )
    [failure] = by_name["big"]["failures"]
    assert "larger than 10000 bytes" in failure["reason"] and not failure["gave_up"]


@pytest.mark.slow
def test_failed_article_is_retried_then_given_up(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", with_etag(rss(server.base_url, "flaky")))
    server.route("/a/flaky.html", Response(b"down", 503))
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    config.write_text(config.read_text() + "[articles]\nmax_attempts = 2\n")
    _, first = run(config, capsys)
    assert first["sources"][0]["failures"][0]["gave_up"] is False
    _, second = run(config, capsys)  # feed is 304, but the pending article is retried
    assert second["sources"][0]["failures"][0]["gave_up"] is True
    _, third = run(config, capsys)
    assert third["sources"][0]["failures"] == []
    assert server.hits("/a/flaky.html") == 2


@pytest.mark.slow
def test_every_source_failing_exits_2(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/500.xml", Response(b"oops", 500))
    config = write_config(tmp_path, server, {"error": "/500.xml"})
    code, _ = run(config, capsys)
    assert code == 2


@pytest.mark.slow
def test_loopback_sources_are_refused_unless_allowed(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    config = write_config(tmp_path, server, {"wire": "/feed.xml"}, allow_private_addresses="false")
    code, report = run(config, capsys)
    assert code == 2
    assert "allow_private_addresses" in report["sources"][0]["error"]
    assert server.hits("/feed.xml") == 0


def test_bad_config_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text('[[sources]]\nname = "x"\nurl = "not a url"\n')
    assert main(["check", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "watcher.toml: sources[0] ('x').url: not an http(s) URL" in err


@pytest.mark.slow
def test_text_report_names_sources_and_failures(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", rss(server.base_url, "one"))
    serve_articles(server, "one")
    server.route("/500.xml", Response(b"oops", 500))
    config = write_config(tmp_path, server, {"wire": "/feed.xml", "broken": "/500.xml"})
    assert main(["check", "--config", str(config)]) == 1
    out = capsys.readouterr().out
    assert "wire: 1 new article(s)" in out and "+ Story one" in out
    assert "broken: FAILED:" in out
