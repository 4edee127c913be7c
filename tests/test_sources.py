"""Sources as people have them: sites without a feed URL, section pages, sitemaps, OPML,
and the `watcher sources` and `watcher articles` commands, against real sites on loopback."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.checks import ARTICLE
from tests.support.loopback import LoopbackServer, Response
from watcher.cli.main import main
from watcher.config import load_config
from watcher.ingest.pages import looks_like_article
from watcher.store import SCHEMA_VERSION, Store

RSS_TYPE = {"Content-Type": "application/rss+xml"}
HTML_TYPE = {"Content-Type": "text/html; charset=utf-8"}


def write_config(tmp_path: Path, *sources: dict[str, str], **articles: str) -> Path:
    lines = [
        '[state]\npath = "state.db"',
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        'read_timeout = "2s"',
    ]
    if articles:
        lines.append("[articles]\n" + "\n".join(f"{k} = {v}" for k, v in articles.items()))
    for source in sources:
        # Made-up titles: every item is fetched (see test_relevance.py for the pre-filter).
        source = {"fetch": "all", **source}
        lines.append("[[sources]]\n" + "\n".join(f'{k} = "{v}"' for k, v in source.items()))
    config = tmp_path / "watcher.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def check(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["check", "--config", str(config), "--json", "--no-send", *extra])
    return code, json.loads(capsys.readouterr().out)


def rss(base: str, *paths: str) -> str:
    items = "".join(
        f"<item><title>Story {p}</title><link>{base}{p}</link><guid>{p}</guid></item>"
        for p in paths
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )


def article(server: LoopbackServer, path: str, title: str = "") -> None:
    server.route(path, ARTICLE.format(title=title or f"Story {path}", day=5), headers=HTML_TYPE)


HOME = """<!doctype html><html><head><title>Sahel Wire</title>
<link rel="stylesheet" href="/style.css">{head}</head>
<body><nav><a href="/">Home</a> <a href="/world/">World</a> <a href="/tag/niger">Niger</a>
<a href="/author/jane-doe">Jane Doe</a> <a href="/login">Log in</a>
<a href="https://elsewhere.example/us-leaves-niger-base-story">Elsewhere</a></nav>
<main>{body}</main></body></html>"""


# -- a site whose feed is only named in its head ----------------------------------------


@pytest.mark.slow
def test_a_site_whose_only_feed_is_named_in_its_head_is_polled_through_that_feed(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    head = '<link rel="alternate" type="application/rss+xml" title="News" href="/xml/news.rss">'
    server.route("/", HOME.format(head=head, body="<p>Welcome</p>"), headers=HTML_TYPE)
    server.route("/xml/news.rss", rss(server.base_url, "/2024/08/first-story"), headers=RSS_TYPE)
    article(server, "/2024/08/first-story")
    config = write_config(tmp_path, {"name": "wire", "url": server.url("/")})

    code, report = check(config, capsys)
    [source] = report["sources"]
    assert code == 1, source["error"]
    assert source["kind"] == "feed"
    assert source["polled_url"] == server.url("/xml/news.rss")
    assert f"feed found: {server.url('/xml/news.rss')} (named on the page)" in source["notes"]
    assert [a["url"] for a in source["articles"]] == [server.url("/2024/08/first-story")]

    # The feed is remembered: the next pass goes to it, not to the page.
    server.route(
        "/xml/news.rss",
        rss(server.base_url, "/2024/08/second-story", "/2024/08/first-story"),
        headers=RSS_TYPE,
    )
    article(server, "/2024/08/second-story")
    code, report = check(config, capsys)
    assert code == 1
    assert [a["url"] for a in report["sources"][0]["articles"]] == [
        server.url("/2024/08/second-story")
    ]
    assert server.hits("/") == 1

    # The feed moves away: the page is searched again, at a common path this time.
    server.routes.pop("/xml/news.rss")
    server.route("/", HOME.format(head="", body=""), headers=HTML_TYPE)
    server.route("/feed", rss(server.base_url, "/2024/08/third-story"), headers=RSS_TYPE)
    article(server, "/2024/08/third-story")
    code, report = check(config, capsys)
    [source] = report["sources"]
    assert code == 1, source["error"]
    assert source["polled_url"] == server.url("/feed")
    assert "the feed found before" in source["notes"][0]


def test_sources_test_shows_the_feed_found_and_its_first_items(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    head = '<link rel="alternate" type="application/atom+xml" href="/atom">'
    server.route("/", HOME.format(head=head, body=""), headers=HTML_TYPE)
    server.route("/atom", rss(server.base_url, "/a/one-two-three", "/a/four-five-six"))
    config = write_config(tmp_path)
    assert main(["sources", "test", server.url("/"), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert f"read as a feed: {server.url('/atom')}" in out
    assert "feed found" in out and "Story /a/one-two-three" in out
    assert server.hits("/a/one-two-three") == 0  # nothing beyond the listing is fetched
    assert not (tmp_path / "state.db").exists()  # and nothing stored


def test_a_page_with_no_feed_anywhere_fails_in_one_line_that_says_what_to_do(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/", HOME.format(head="", body="<p>No feed here</p>"), headers=HTML_TYPE)
    config = write_config(tmp_path)
    assert main(["sources", "test", server.url("/"), "--config", str(config)]) == 2
    # (The loopback server's own thread may log a reset connection to stderr too.)
    [err] = [line for line in capsys.readouterr().err.splitlines() if line.startswith("watcher")]
    assert err.startswith(f"watcher: error: {server.url('/')}: not an RSS or Atom feed: an HTML")
    assert 'kind = "page"' in err


# -- a section page ---------------------------------------------------------------------


SECTION = """
<article><h2><a href="/world/us-troops-leave-air-base-101">US troops leave Air Base 101</a></h2>
<a href="/world/us-troops-leave-air-base-101"><img src="/i/1.jpg"></a>
<a href="/world/us-troops-leave-air-base-101#comments">12 comments</a></article>
<article><h2><a href="/world/2024/08/05/handover">Agadez handed over</a></h2></article>
<article><h2><a href="/story/482913">Pentagon briefing</a></h2></article>
<a href="/world/">World</a> <a href="/world/page/2">Next page</a> <a href="/world/africa">Africa</a>
<a href="/tag/us-forces-in-niger">US forces in Niger</a> <a href="/feed.xml">RSS</a>
"""


@pytest.mark.slow
def test_a_section_page_gives_its_article_links_once_each(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/world/", HOME.format(head="", body=SECTION), headers=HTML_TYPE)
    for path in ("/world/us-troops-leave-air-base-101", "/world/2024/08/05/handover"):
        article(server, path)
    article(server, "/story/482913")
    config = write_config(tmp_path, {"name": "world", "url": server.url("/world/"), "kind": "page"})

    code, report = check(config, capsys)
    [source] = report["sources"]
    assert code == 1, source["error"]
    assert source["kind"] == "page"
    assert sorted(a["url"] for a in source["articles"]) == sorted(
        server.url(p)
        for p in (
            "/world/us-troops-leave-air-base-101",
            "/world/2024/08/05/handover",
            "/story/482913",
        )
    )
    assert server.hits("/world/us-troops-leave-air-base-101") == 1
    with sqlite3.connect(tmp_path / "state.db") as db:
        titles = dict(db.execute("SELECT link, title FROM items"))
    assert titles[server.url("/world/us-troops-leave-air-base-101")] == (
        "US troops leave Air Base 101"
    )

    # A new link on the page is the only article fetched next time.
    body = '<a href="/world/last-us-troops-fly-out">Last US troops fly out</a>' + SECTION
    server.route("/world/", HOME.format(head="", body=body), headers=HTML_TYPE)
    article(server, "/world/last-us-troops-fly-out")
    code, report = check(config, capsys)
    assert [a["url"] for a in report["sources"][0]["articles"]] == [
        server.url("/world/last-us-troops-fly-out")
    ]


def test_what_looks_like_an_article() -> None:
    assert looks_like_article("https://news.example/world/us-troops-leave-niger")
    assert looks_like_article("https://news.example/2024/08/05/handover")
    assert looks_like_article("https://news.example/story/482913.html")
    assert not looks_like_article("https://news.example/world/africa")
    assert not looks_like_article("https://news.example/world/")
    assert not looks_like_article("https://news.example/files/us-troops-leave-niger.pdf")


# -- sitemaps ---------------------------------------------------------------------------


def news_sitemap(base: str, *entries: tuple[str, str]) -> str:
    urls = "".join(
        f"<url><loc>{base}{path}</loc><news:news><news:publication>"
        "<news:name>Wire</news:name><news:language>en</news:language></news:publication>"
        f"<news:publication_date>{when}</news:publication_date>"
        f"<news:title>Title of {path}</news:title></news:news></url>"
        for path, when in entries
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
        'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>"
    )


@pytest.mark.slow
def test_a_news_sitemap_index_gives_the_recent_entries_of_its_sitemaps(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    index = (
        '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<sitemap><loc>{server.url('/sitemap-news.xml')}</loc>"
        "<lastmod>2099-01-01T00:00:00Z</lastmod></sitemap>"
        f"<sitemap><loc>{server.url('/sitemap-archive.xml.gz')}</loc>"
        "<lastmod>2020-01-01</lastmod></sitemap></sitemapindex>"
    )
    server.route("/sitemap.xml", index, headers={"Content-Type": "application/xml"})
    now = datetime.now(UTC)
    fresh = (now - timedelta(hours=3)).isoformat()
    stale = (now - timedelta(days=30)).isoformat()
    server.route(
        "/sitemap-news.xml",
        news_sitemap(server.base_url, ("/n/us-base-handed-over", fresh), ("/n/old-news", stale)),
    )
    archive = news_sitemap(server.base_url, ("/n/last-us-troops-leave", fresh))
    server.route(
        "/sitemap-archive.xml.gz",
        Response(gzip.compress(archive.encode()), headers={"Content-Type": "application/gzip"}),
    )
    for path in ("/n/us-base-handed-over", "/n/last-us-troops-leave", "/n/old-news"):
        article(server, path)
    config = write_config(tmp_path, {"name": "map", "url": server.url("/sitemap.xml")})

    code, report = check(config, capsys)
    [source] = report["sources"]
    assert code == 1, source["error"]
    assert source["kind"] == "sitemap"
    assert sorted(a["url"] for a in source["articles"]) == [
        server.url("/n/last-us-troops-leave"),
        server.url("/n/us-base-handed-over"),
    ]
    assert server.hits("/n/old-news") == 0

    # Nothing new in any of them: the index and its sitemaps are read, nothing is fetched.
    code, report = check(config, capsys)
    assert (code, report["sources"][0]["status"]) == (0, "unchanged")


def test_a_sitemap_without_dates_is_refused_in_one_line(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    urls = "".join(f"<url><loc>{server.url(f'/p/{n}')}</loc></url>" for n in range(500))
    server.route("/sitemap.xml", f'<urlset xmlns="http://x">{urls}</urlset>')
    config = write_config(
        tmp_path, {"name": "map", "url": server.url("/sitemap.xml"), "kind": "sitemap"}
    )
    code, report = check(config, capsys)
    [source] = report["sources"]
    assert code == 2
    assert source["error"] == (
        f"{server.url('/sitemap.xml')}: none of its 500 entries has a date "
        "(news:publication_date or lastmod), so the recent ones cannot be told apart"
    )


# -- each kind of bad source fails alone ---------------------------------------------------


@pytest.mark.slow
def test_bad_sources_of_each_kind_fail_alone_in_one_line(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/good.xml", rss(server.base_url, "/a/good-story-here"), headers=RSS_TYPE)
    article(server, "/a/good-story-here")
    # A page with links, none of them to an article.
    server.route("/section/", HOME.format(head="", body=""), headers=HTML_TYPE)
    # A sitemap bomb: a few hundred kB of gzip that inflate to 200 MB of entries.
    entry = f"<url><loc>{server.url('/x/some-story-slug-here')}</loc></url>".encode()
    bomb = gzip.compress(b'<urlset xmlns="http://x">' + entry * (200_000_000 // len(entry)), 9)
    server.route("/bomb.xml.gz", Response(bomb, headers={"Content-Type": "application/gzip"}))
    config = write_config(
        tmp_path,
        {"name": "good", "url": server.url("/good.xml")},
        {"name": "section", "url": server.url("/section/"), "kind": "page"},
        {"name": "bomb", "url": server.url("/bomb.xml.gz"), "kind": "sitemap"},
    )
    code, report = check(config, capsys)
    assert code == 1
    by_name = {s["name"]: s for s in report["sources"]}
    assert by_name["good"]["status"] == "new"
    assert len(by_name["good"]["articles"]) == 1
    section, bomb = by_name["section"]["error"], by_name["bomb"]["error"]
    assert section.startswith(f"{server.url('/section/')}: no article links on the page (")
    assert (
        bomb == f"{server.url('/bomb.xml.gz')}: gzip sitemap inflates to more than 10000000 bytes"
    )
    assert "\n" not in section + bomb


# -- OPML -------------------------------------------------------------------------------


def opml(*outlines: str) -> str:
    return (
        '<?xml version="1.0"?><opml version="2.0"><head><title>Mine</title></head><body>'
        + "".join(outlines)
        + "</body></opml>"
    )


@pytest.mark.slow
def test_an_opml_list_of_50_feeds_is_imported_and_polled(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    outlines = []
    for number in range(50):
        path = f"/feeds/{number}.xml"
        server.route(path, rss(server.base_url), headers=RSS_TYPE)
        outlines.append(f'<outline text="Desk {number}" type="rss" xmlUrl="{server.url(path)}"/>')
    folder = '<outline text="Broken">{}</outline>'.format(
        '<outline text="Ftp" type="rss" xmlUrl="ftp://old.example/feed"/>'
        '<outline text="Typo" type="rss" xmlUrl="htp:/missing.example/rss"/>'
    )
    (tmp_path / "mine.opml").write_text(opml(*outlines[:25], folder, *outlines[25:]))
    config = write_config(tmp_path)
    config.write_text("# my sources, kept by hand\n" + config.read_text())

    code = main(["sources", "import", str(tmp_path / "mine.opml"), "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == 0
    assert "50 source(s) added, 0 already there, 2 skipped" in out
    assert err.splitlines() == [
        f"watcher: skipped: {tmp_path / 'mine.opml'}: outline 26 ('Ftp'): "
        "not an http(s) URL: 'ftp://old.example/feed'",
        f"watcher: skipped: {tmp_path / 'mine.opml'}: outline 27 ('Typo'): "
        "not an http(s) URL: 'htp:/missing.example/rss'",
    ]
    assert config.read_text().startswith("# my sources, kept by hand\n")
    names = [s.name for s in load_config(config).sources]
    assert names[:2] == ["desk-0", "desk-1"] and len(names) == 50

    # Importing again adds nothing.
    main(["sources", "import", str(tmp_path / "mine.opml"), "--config", str(config)])
    assert "0 source(s) added, 50 already there" in capsys.readouterr().out

    code, report = check(config, capsys)
    assert code == 0
    assert len(report["sources"]) == 50
    assert all(s["status"] == "nothing_new" for s in report["sources"])

    # And out again: every source, as an OPML list another reader can import.
    assert main(["sources", "export", "--config", str(config)]) == 0
    exported = capsys.readouterr().out
    (tmp_path / "again.opml").write_text(exported)
    (tmp_path / "other").mkdir()
    other = write_config(tmp_path / "other")
    main(["sources", "import", str(tmp_path / "again.opml"), "--config", str(other)])
    assert [s.url for s in load_config(other).sources] == [
        s.url for s in load_config(config).sources
    ]


def test_a_file_that_is_not_opml_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "list.opml").write_text("<html><body>not a list</body></html>")
    config = write_config(tmp_path)
    assert main(["sources", "import", str(tmp_path / "list.opml"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err == f"watcher: error: {tmp_path / 'list.opml'}: not an OPML subscription list\n"


# -- editing the config -------------------------------------------------------------------


def test_sources_are_added_disabled_and_removed_in_place_keeping_comments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "watcher.toml"
    original = (
        "# The desk's sources.\n"
        '[state]\npath = "state.db"   # beside this file\n\n'
        "# Agencies first.\n"
        '[[sources]]\nname = "wire"\nurl = "https://wire.example/rss"  # the main one\n'
    )
    config.write_text(original)
    config.chmod(0o600)
    args = ["--config", str(config)]
    assert (
        main(["sources", "add", "https://www.sahel.example/world/", "--kind", "page", *args]) == 0
    )
    assert main(["sources", "disable", "wire", *args]) == 0
    text = config.read_text()
    assert text.startswith(original.replace("the main one\n", "the main one\nenabled = false\n"))
    assert '[[sources]]\nname = "sahel-example"\nurl = "https://www.sahel.example/world/"\n' in text
    assert 'kind = "page"' in text
    assert config.stat().st_mode & 0o777 == 0o600
    assert [(s.name, s.enabled) for s in load_config(config).sources] == [
        ("wire", False),
        ("sahel-example", True),
    ]

    assert main(["sources", "enable", "wire", *args]) == 0
    assert main(["sources", "remove", "sahel-example", *args]) == 0
    assert config.read_text() == original.replace(
        "the main one\n", "the main one\nenabled = true\n"
    )

    capsys.readouterr()
    assert main(["sources", "list", "--json", *args]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["name"] for s in listed["sources"]] == ["wire"]


def test_an_edit_that_would_break_the_config_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, {"name": "wire", "url": "https://wire.example/rss"})
    before = config.read_text()
    code = main(
        ["sources", "add", "https://b.example/", "--interval", "never", "--config", str(config)]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"watcher: error: {config}: sources[1] ('b-example').interval: expected")
    assert main(["sources", "remove", "nope", "--config", str(config)]) == 2
    assert "no source named 'nope' (sources: wire)" in capsys.readouterr().err
    assert config.read_text() == before


# -- check --source, articles failed and retry ------------------------------------------


def test_check_source_polls_that_source_only(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/a.xml", rss(server.base_url), headers=RSS_TYPE)
    server.route("/b.xml", rss(server.base_url), headers=RSS_TYPE)
    config = write_config(
        tmp_path,
        {"name": "a", "url": server.url("/a.xml")},
        {"name": "b", "url": server.url("/b.xml")},
    )
    code, report = check(config, capsys, "--source", "b")
    assert code == 0
    assert [s["name"] for s in report["sources"]] == ["b"]
    assert server.hits("/a.xml") == 0
    assert main(["check", "--config", str(config), "--source", "c"]) == 2
    assert "no source named 'c' (sources: a, b)" in capsys.readouterr().err


@pytest.mark.slow
def test_articles_given_up_on_are_listed_and_retried(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    server.route("/feed.xml", rss(server.base_url, "/a/gone-for-now", "/a/fine-story"))
    article(server, "/a/fine-story")
    config = write_config(
        tmp_path, {"name": "wire", "url": server.url("/feed.xml")}, max_attempts=1
    )
    check(config, capsys)

    assert main(["articles", "failed", "--json", "--config", str(config)]) == 0
    [failed] = json.loads(capsys.readouterr().out)["failed"]
    assert failed["link"] == server.url("/a/gone-for-now")
    assert failed["reason"] == f"{server.url('/a/gone-for-now')}: HTTP 404 Not Found"
    assert main(["articles", "failed", "--config", str(config)]) == 0
    assert failed["id"] in capsys.readouterr().out

    # Given up: not fetched again...
    check(config, capsys)
    assert server.hits("/a/gone-for-now") == 1
    # ...until asked for.
    assert main(["articles", "retry", "nope", "--config", str(config)]) == 2
    assert "no article given up on has id nope" in capsys.readouterr().err
    assert main(["articles", "retry", failed["id"], "--config", str(config)]) == 0
    assert "1 article(s) queued again" in capsys.readouterr().out
    article(server, "/a/gone-for-now")
    code, report = check(config, capsys)
    assert code == 1
    assert [a["url"] for a in report["sources"][0]["articles"]] == [server.url("/a/gone-for-now")]
    main(["articles", "failed", "--json", "--config", str(config)])
    assert json.loads(capsys.readouterr().out) == {"failed": []}


# -- the database -----------------------------------------------------------------------------


FIXTURES = Path(__file__).parent / "fixtures"


def upgraded(tmp_path: Path, fixture: str) -> Path:
    """A database watcher left at an older schema (``fixture``), opened and so upgraded."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.executescript((FIXTURES / fixture).read_text())
    store = Store(f"sqlite:///{path}")
    assert store.schema_version() == SCHEMA_VERSION
    assert store.due_revisits("sahel-wire", datetime.now(UTC), 10) == []
    store.close()
    return path


def assert_revisit_columns(path: Path) -> None:
    """Feeds found and revisits have their columns; the articles stored before keep their
    first fetch and are never revisited (they predate revisits)."""
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(articles)")}
        source_columns = {row[1] for row in db.execute("PRAGMA table_info(sources)")}
        rows = db.execute(
            "SELECT fetched_at, first_fetched, revisits, revisit_at, revision FROM articles"
        ).fetchall()
        indexes = {row[1] for row in db.execute("PRAGMA index_list(articles)")}
    assert {"etag", "last_modified", "first_fetched", "revisits", "revisit_at"} <= columns
    assert "revision" in columns and "feed_url" in source_columns
    assert rows and all(row == (row[0], row[0], 0, None, 0) for row in rows)
    assert "ix_articles_revisit_at" in indexes


def test_a_schema_2_database_is_upgraded_to_hold_feeds_found_and_revisits(
    tmp_path: Path,
) -> None:
    """Schema 2 (before stories) goes through the stories' upgrade, then this one."""
    path = upgraded(tmp_path, "schema-2.sql")
    assert_revisit_columns(path)
    with sqlite3.connect(path) as db:
        observation_columns = {row[1] for row in db.execute("PRAGMA table_info(observations)")}
    assert "story" in observation_columns


def test_a_schema_3_database_is_upgraded_keeping_its_stories_and_corrections(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Schema 3 (stories and corrections, left by the demo's first pass and one
    `watcher facts set`) gains the columns and keeps what it knew."""
    path = tmp_path / "state.db"
    with sqlite3.connect(":memory:") as db:
        db.executescript((FIXTURES / "schema-3.sql").read_text())
        knowledge_before = db.execute("SELECT story, key, data FROM knowledge").fetchall()
        changes_before = db.execute("SELECT id, identity, status FROM changes").fetchall()
    assert upgraded(tmp_path, "schema-3.sql") == path
    assert_revisit_columns(path)
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT story, key, data FROM knowledge").fetchall() == knowledge_before
        assert db.execute("SELECT id, identity, status FROM changes").fetchall() == changes_before
    config = tmp_path / "watcher.toml"
    config.write_text('[state]\npath = "state.db"\n')
    assert main(["facts", "--config", str(config), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    [correction] = document["corrections"]
    assert (correction["kind"], correction["key"], correction["by"]) == (
        "set",
        "us_forces.troop_count",
        "editor",
    )
    troops = next(f for f in document["facts"] if f["key"] == "us_forces.troop_count")
    assert (troops["value"], troops["origin"]) == (0, "set")
    assert {c["change_id"] for c in document["changes"]} == {i for i, _, _ in changes_before}
    assert all(c["revision"] is False for c in document["changes"])
