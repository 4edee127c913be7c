"""fetch = "relevant": an item whose title and summary name nothing of a story is not
downloaded (the default), and is counted; fetch = "all" downloads every item."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.loopback import LoopbackServer, Response
from watcher.cli.main import main
from watcher.config import Config
from watcher.facts.relevance import Relevance
from watcher.facts.topic import load_topic
from watcher.store import ItemState, open_store

REPO = Path(__file__).resolve().parent.parent
PAGE = """<!doctype html><html><head><title>{title}</title></head><body><article>
<h1>{title}</h1><p>{title}. Reporters followed the story through the week and spoke with
officials, residents and analysts about what comes next for the people there.</p>
<p>More reporting followed from the capital, where ministers met diplomats.</p>
</article></body></html>"""

# (slug, title, summary): a general news feed, mostly about something else.
ITEMS = [
    ("niger", "US troops begin leaving Niger", None),
    ("base", "Handover of Air Base 201 set for August", None),
    ("summary", "Drone flights end", "The Pentagon said the last drones left the base."),
    ("junta", "Nigerien junta sets a date", None),
    ("stocks", "Stocks fall in Tokyo", "Markets slid on Monday."),
    ("nigeria", "Nigeria's army fights in Borno", "Soldiers in Nigeria..."),
    ("mali", "French troops leave Mali", None),
    ("recipe", "A focaccia for the weekend", "Olive oil, herbs and patience."),
    ("bare", None, None),
]
RELEVANT = {"niger", "base", "summary", "junta", "bare"}


def feed(base: str, items: list[tuple[str, str | None, str | None]]) -> str:
    entries = "".join(
        "<item>"
        + (f"<title>{title}</title>" if title else "")
        + (f"<description>{summary}</description>" if summary else "")
        + f"<link>{base}/a/{slug}.html</link><guid>{slug}</guid></item>"
        for slug, title, summary in items
    )
    channel = f"<channel><title>News</title>{entries}</channel>"
    return f'<?xml version="1.0"?><rss version="2.0">{channel}</rss>'


def serve(server: LoopbackServer, items: list[tuple[str, str | None, str | None]]) -> None:
    server.route("/feed.xml", Response(feed(server.base_url, items).encode()))
    for slug, title, _ in items:
        server.route(f"/a/{slug}.html", PAGE.format(title=title or f"Item {slug}"))


def config_file(tmp_path: Path, server: LoopbackServer, fetch: str | None = None) -> Path:
    policy = f'fetch = "{fetch}"\n' if fetch else ""
    path = tmp_path / "watcher.toml"
    path.write_text(
        '[state]\npath = "state.db"\n'
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        f'[[sources]]\nname = "news"\nurl = "{server.url("/feed.xml")}"\n{policy}'
    )
    return path


def fetched_pages(server: LoopbackServer) -> set[str]:
    return {r.path.removeprefix("/a/").removesuffix(".html") for r in server.requests} - {
        "/feed.xml"
    }


def check(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["check", "--config", str(config), *extra])
    return code, capsys.readouterr().out


@pytest.mark.slow
def test_by_default_only_items_that_name_the_story_are_downloaded(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, ITEMS)
    config = config_file(tmp_path, server)
    code, out = check(config, capsys, "--json")
    assert code == 1
    [source] = json.loads(out)["sources"]
    assert (source["new_items"], source["unrelated"]) == (len(ITEMS), 4)
    assert fetched_pages(server) == RELEVANT
    assert len(source["articles"]) == len(RELEVANT)

    # Remembered as unrelated: never fetched, however often the feed is read again.
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        with store.engine.connect() as conn:
            states = dict(conn.exec_driver_sql("select item_id, state from items").all())
    finally:
        store.close()
    assert {
        i.rsplit("/", 1)[-1] for i, state in states.items() if state == ItemState.UNRELATED
    } == {
        "stocks",
        "nigeria",
        "mali",
        "recipe",
    }
    serve(server, [*ITEMS, ("weather", "Rain in Paris", None)])
    server.requests.clear()
    code, out = check(config, capsys)
    assert code == 0
    assert fetched_pages(server) == set()
    assert "news: nothing new" not in out  # one new item, not fetched: said so
    assert "1 new item(s) not fetched: they name nothing of the story" in out


@pytest.mark.slow
def test_fetch_all_downloads_every_item(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve(server, ITEMS)
    code, out = check(config_file(tmp_path, server, "all"), capsys, "--json")
    assert code == 1
    [source] = json.loads(out)["sources"]
    assert source["unrelated"] == 0
    assert fetched_pages(server) == {slug for slug, _, _ in ITEMS}


def test_fetch_must_be_all_or_relevant(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "--config", str(config_file(tmp_path, server, "some"))]) == 2
    err = capsys.readouterr().err
    assert "sources[0] ('news').fetch: " in err and "'all' or 'relevant'" in err, err


def test_an_item_passes_when_it_names_any_story_followed() -> None:
    niger = load_topic(Config().topic_path())
    senegal = load_topic(REPO / "corpus" / "topics" / "senegal-france-2025.toml")
    both = Relevance([niger, senegal])
    assert both.names_a_story("French troops hand Camp Geille to Senegal")
    assert both.names_a_story("US forces leave Niamey")
    assert both.names_a_story("French troops leave Mali")  # an actor of the Senegal story
    assert not both.names_a_story("Chadian troops leave Mali")
    assert not Relevance([niger]).names_a_story("French troops hand Camp Geille to Senegal")


@pytest.mark.parametrize(
    ("title", "summary", "worth"),
    [
        ("Airbase 201 handed over", None, True),  # a base, written another way
        ("Oil spill in the Niger Delta", None, False),  # what Niger is confused with
        ("Nigerian troops on patrol", "In Abuja, the army said...", False),
        ("Nigerian junta orders US troops out", None, True),
        ("Markets", "Washington and Beijing trade barbs", True),  # the subject, in the summary
        ("", "  ", True),  # nothing to judge by: fetched
    ],
)
def test_what_names_the_shipped_story(title: str, summary: str | None, worth: bool) -> None:
    relevance = Relevance([load_topic(Config().topic_path())])
    assert relevance.worth_fetching(title, summary) is worth


def test_the_web_view_counts_unrelated_items_as_skipped(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    from watcher.web.queries import item_counts

    serve(server, ITEMS)
    check(config_file(tmp_path, server), capsys)
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        counts = item_counts(store)["news"]
    finally:
        store.close()
    assert (counts.seen, counts.read, counts.skipped) == (len(ITEMS), len(RELEVANT), 4)
