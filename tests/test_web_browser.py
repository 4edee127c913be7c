"""The web view in a real headless browser: Debian's Chromium driven through Playwright,
against `watcher serve` serving a database filled by real `watcher check` runs.

Each page is checked for the values the checks found, for hostile article text
shown as text (a `<script>` title, `<!channel>`, markup in a quote, a
10,000-character quote), and for a clean console: no script error and no
Content-Security-Policy violation. A screenshot of each page is saved under
test-artifacts/web/ (the run's summary prints where).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.webview import HOSTILE_MARKUP, HOSTILE_TITLE, Served, save_screenshot
from watcher.facts.compare import describe

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium; .ci/run does)",
    ),
]

playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

BASE_201 = "bases.air_base_201.status"
COUNT = "us_forces.troop_count"
DEADLINE = date(2024, 9, 15)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


class Tab:
    """A page that records console errors, failed loads, uncaught errors and dialogs."""

    def __init__(self, browser: Any, *, javascript: bool = True) -> None:
        self.context = browser.new_context(
            viewport={"width": 1200, "height": 900}, java_script_enabled=javascript
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                self.problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None
            ),
        )
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on(
            "dialog", lambda d: (self.problems.append(f"dialog: {d.message}"), d.dismiss())
        )
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
        )

    def _dialog(self, dialog: Any) -> None:
        self.problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def open(self, url: str) -> Any:
        response = self.page.goto(url)
        assert response is not None and response.status == 200, url
        return self.page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Tab]:
    opened = Tab(browser)
    yield opened
    problems = opened.problems
    opened.close()
    assert problems == [], problems


def text_of(locator: Any) -> str:
    return " ".join(locator.inner_text().split())


def svg_text(locator: Any) -> str:
    """The text of an SVG element (which has no rendered inner text)."""
    return " ".join((locator.text_content() or "").split())


def by_id(page: Any, element_id: str) -> Any:
    return page.locator(f'[id="{element_id}"]')


def assert_hostile_text_is_inert(page: Any, *, shown: bool = True) -> None:
    """Article strings are on the page as text: no element, script or image came of them."""
    assert page.locator("script").count() == 0
    assert page.locator("img").count() == 0
    if shown:
        assert page.get_by_text(HOSTILE_TITLE, exact=False).count() >= 1
        assert "<!channel>" in page.inner_text("main")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def known_fact(served: Served, key: str) -> dict[str, Any]:
    """The fact as the API (and `watcher facts KEY --json`) has it."""
    [fact] = httpx.get(f"{served.url}/api/facts/{key}", timeout=10).json()["facts"]
    return fact


def described(fact: dict[str, Any], reading: dict[str, Any]) -> str:
    return describe(fact["kind"], reading["value"], reading["qualifier"])


def test_story_page_shows_each_fact_as_it_stands(tab: Tab, served: Served) -> None:
    page = tab.open(served.url + "/")
    assert page.title() == "US forces leave Niger · watcher"
    countdown = text_of(page.locator(".countdown"))
    assert "US withdrawal deadline: 2024-09-15" in countdown
    days = int(re.search(r"passed (\d+) days ago", countdown).group(1))  # type: ignore[union-attr]
    assert days in {(date.today() - DEADLINE).days, (date.today() - DEADLINE).days + 1}

    base = by_id(page, f"fact-{BASE_201}")
    assert text_of(base.locator(".value strong")) == "handed over"
    assert text_of(base.locator(".origin-observed")) == "observed since the seeds"
    assert text_of(base.locator(".status-confirmed")) == "confirmed by 2 independent sources"
    assert "raised their country's flag over Air Base 201" in text_of(base)

    deadline = by_id(page, "fact-us_forces.withdrawal_deadline")
    assert text_of(deadline.locator(".value strong")) == "2024-09-15"
    assert text_of(deadline.locator(".origin-seeds")) == "from the seed articles"
    seed = deadline.locator("figure.evidence", has_text="(seed:").first
    assert seed.locator("a").count() == 0  # a seed has no link to follow

    # Every fact shows the value the API gives, and the count its dispute, as a dispute.
    for key in (
        "us_forces.troop_count",
        "us_forces.withdrawal_status",
        "bases.air_base_101.status",
    ):
        fact = known_fact(served, key)
        card = by_id(page, f"fact-{key}")
        assert text_of(card.locator(".value strong")) == described(fact, fact)
        assert card.locator(f".origin-{fact['origin']}").count() == 1
        if fact["change"]:
            assert fact["change"]["status"] in text_of(
                card.locator(f".status-{fact['change']['status']}")
            )
    count = known_fact(served, COUNT)
    assert count["conflicts"], "the replay should leave the count disputed"
    card = by_id(page, f"fact-{COUNT}")
    assert text_of(card.locator(".badge.disputed")) == "disputed"
    disputes = card.locator("section.dispute h3")
    assert [text_of(disputes.nth(i)) for i in range(disputes.count())] == [
        f"Disputed by: {described(count, c['new'])} (as of {c['new']['as_of']})"
        for c in count["conflicts"]
    ]
    assert_hostile_text_is_inert(page, shown=False)
    save_screenshot(page, "story")


def test_timeline_of_a_count_steps_with_its_qualifier_and_shows_the_dispute(
    tab: Tab, served: Served
) -> None:
    fact = known_fact(served, COUNT)
    page = tab.open(served.url + f"/facts/{COUNT}")
    chart = page.locator("svg.chart")
    assert chart.count() == 1
    held = chart.locator("a.point.held")
    values = [*fact["history"], fact]
    assert [svg_text(held.nth(i).locator("text")) for i in range(held.count())] == [
        described(fact, reading) for reading in values
    ]
    assert "about 1,000" in svg_text(held.first.locator("text"))  # the seeds', with its qualifier
    boxes = [held.nth(i).locator("circle").bounding_box() for i in range(held.count())]
    for (a, b), (old, new) in zip(pairwise(boxes), pairwise(values), strict=True):
        assert b["x"] >= a["x"]  # in the order the fact took them
        assert (b["y"] > a["y"]) == (new["value"] < old["value"])  # a fall goes down
    step = chart.locator("path.step").get_attribute("d")
    assert step.startswith("M ") and step.count(" H ") == len(values)
    disputes = chart.locator("a.point.dispute")
    assert [svg_text(disputes.nth(i).locator("text")) for i in range(disputes.count())] == [
        f"disputed: {described(fact, c['new'])}" for c in fact["conflicts"]
    ]
    assert svg_text(chart.locator(".deadline text")) == "deadline 2024-09-15"
    deadline_x = chart.locator(".deadline line").bounding_box()["x"]
    assert deadline_x > max(box["x"] for box in boxes[:-1])

    # Each point links to its evidence: the hostile article's reading, shown as text.
    hostile = page.locator("section.reading", has_text=HOSTILE_TITLE).first
    number = hostile.get_attribute("id")
    chart.locator(f'a.point[href="#{number}"] circle').click()
    assert page.url.endswith(f"#{number}")
    assert "about 600" in text_of(page.locator(f"#{number} h3"))
    disputes.first.locator("circle").click()
    target = page.url[page.url.index("#") :]
    assert text_of(page.locator(f"{target} h3")).startswith("Disputed by: ")
    assert_hostile_text_is_inert(page)
    save_screenshot(page, "timeline-troop-count")


def test_timeline_of_a_status_has_a_band_per_value_on_its_ladder(tab: Tab, served: Served) -> None:
    page = tab.open(served.url + f"/facts/{BASE_201}")
    chart = page.locator("svg.chart")
    rows = chart.locator(".y-tick")
    assert [svg_text(rows.nth(i)) for i in range(rows.count())] == [
        "operating",
        "withdrawing",
        "handed over",
    ]
    bands = chart.locator("a.band")
    assert [svg_text(bands.nth(i).locator("text")) for i in range(bands.count())] == [
        "operating",
        "handed over",
    ]
    operating, handed_over = (bands.nth(i).locator("rect").bounding_box() for i in range(2))
    # One after the other, the later one higher on the ladder; the deadline marked across.
    assert handed_over["x"] >= operating["x"] + operating["width"] - 1
    assert handed_over["y"] < operating["y"]
    assert svg_text(chart.locator(".deadline text")) == "deadline 2024-09-15"
    bands.nth(1).locator("rect").click()
    assert "handed over" in text_of(page.locator("#reading-2 h3"))
    links = page.locator("#reading-2 figcaption a")
    hrefs = {links.nth(i).get_attribute("href") for i in range(links.count())}
    assert hrefs == {e["url"] for e in known_fact(served, BASE_201)["sources"]}
    save_screenshot(page, "timeline-air-base-201")


def test_changes_page_lists_newest_first_with_sources_and_alerts(tab: Tab, served: Served) -> None:
    page = tab.open(served.url + "/changes")
    api = httpx.get(served.url + "/api/changes", timeout=10).json()["changes"]
    cards = page.locator("article.change")
    assert cards.count() == len(api)
    shown = [int(cards.nth(i).get_attribute("id").removeprefix("change-")) for i in range(len(api))]
    assert shown == [c["change_id"] for c in reversed(api)]
    for index, change in enumerate(reversed(api)):
        card = cards.nth(index)
        old = change["old"] or "unknown"
        assert text_of(card.locator(".transition")) == f"{old} → to {change['new']}"
        quotes = card.locator(".evidence blockquote")
        assert quotes.count() == len(change["evidence"])
        links = card.locator(".evidence a")
        assert {links.nth(i).get_attribute("href") for i in range(links.count())} == {
            e["url"] for e in change["evidence"]
        }
        assert "slack, that it was reported: sent" in text_of(card.locator(".alerts"))

    base = page.locator("article.change", has=page.locator("h2", has_text="Air Base 201"))
    confirmed = base.filter(has_text="confirmed by 2 independent sources")
    alerts = confirmed.locator(".alerts li")
    lines = [text_of(alerts.nth(i)) for i in range(alerts.count())]
    assert len(lines) == 4  # each channel: when reported, when confirmed
    assert sum(line.startswith("slack, that it was reported: sent") for line in lines) == 1
    assert sum(line.startswith("slack, that it was confirmed: sent") for line in lines) == 1
    assert sum(line.startswith("email, that it was reported: pending") for line in lines) == 1
    dispute = page.locator("article.change.dispute")
    assert text_of(dispute.locator(".badge.kind")) == "dispute"
    assert "Sources disagree" in text_of(dispute)

    # The 10,000-character quote is cut, as text, and the page still fits the window.
    long_quote = page.locator("blockquote", has_text="officials in Niamey said the drawdown")
    assert long_quote.count() >= 1
    quote = long_quote.first.inner_text()
    assert len(quote) <= 600 and quote.endswith("…")
    assert HOSTILE_MARKUP in quote
    assert_hostile_text_is_inert(page)
    save_screenshot(page, "changes")


def test_changes_filter_by_fact_works_without_javascript(browser: Any, served: Served) -> None:
    tab = Tab(browser, javascript=False)
    try:
        page = tab.open(served.url + "/changes")
        page.select_option("select[name=fact]", BASE_201)
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"/changes\?fact=bases\.air_base_201\.status"))
        api = httpx.get(served.url + "/api/changes", timeout=10).json()["changes"]
        wanted = [c for c in api if c["key"] == BASE_201]
        titles = page.locator("article.change h2")
        assert 0 < titles.count() == len(wanted) < len(api)
        assert {text_of(titles.nth(i)) for i in range(titles.count())} == {"Air Base 201 (Agadez)"}
        assert page.locator("select[name=fact]").input_value() == BASE_201
        page.select_option("select[name=story]", "niger-us-withdrawal")
        page.click("button[type=submit]")
        page.wait_for_url(re.compile(r"story=niger-us-withdrawal"))
        assert page.locator("article.change h2").count() == len(wanted)
        save_screenshot(page, "changes-filtered-without-javascript")
    finally:
        problems = tab.problems
        tab.close()
    assert problems == []


def test_sources_page_shows_health_errors_and_items(tab: Tab, served: Served) -> None:
    page = tab.open(served.url + "/sources")
    status = httpx.get(served.url + "/api/status", timeout=10).json()["sources"]
    rows = page.locator("tbody tr")
    assert rows.count() == len(status)
    for index, source in enumerate(status):
        row = rows.nth(index)
        cells = [text_of(row.locator("td").nth(i)) for i in range(row.locator("td").count())]
        assert source["name"] in text_of(row.locator("th"))
        assert cells[3] == str(source["items_seen"])
        if source["last_error"]:
            assert "404" in cells[2] and f"{source['consecutive_failures']} in a row" in cells[2]
            assert cells[0] == "last poll failed"
        else:
            assert cells[2] == "none"
            assert cells[0] == "ok"
    wire = rows.nth(0)
    # The gone page: tried again on each pass until given up (articles.max_attempts).
    retrying, given_up = (int(text_of(wire.locator("td").nth(i))) for i in (6, 7))
    assert retrying + given_up == 1
    save_screenshot(page, "sources")


def test_outbox_page_shows_what_waits(tab: Tab, served: Served) -> None:
    page = tab.open(served.url + "/outbox")
    waiting = httpx.get(served.url + "/api/outbox", timeout=10).json()["alerts"]
    rows = page.locator("table").first.locator("tbody tr")
    assert rows.count() == len(waiting) > 0
    for index, alert in enumerate(waiting):
        cells = rows.nth(index).locator("td")
        assert text_of(cells.nth(0)) == str(alert["id"])
        assert text_of(cells.nth(1)) == alert["state"]
        assert text_of(cells.nth(2)) == alert["channel"]
        assert text_of(cells.nth(7)) == (alert["last_error"] or "")
    assert any("connection refused" in (a["last_error"] or "") for a in waiting)
    save_screenshot(page, "outbox")


def test_an_edited_article_is_marked_on_the_changes_and_fact_pages(
    browser: Any, tmp_path: Path, server: Any
) -> None:
    """A count an article's edited text moved: the changes page, the story page and the
    count's timeline say "updated article" and quote what the article said before,
    as the terminal report and the alerts do; nothing else is marked."""
    import os
    import time

    from tests.support.alerting import Webhook
    from tests.support.checks import feed
    from tests.support.revisits import DEADLINE as SAID_DEADLINE
    from tests.support.revisits import EDITED, FIRST, WEBHOOK_ENV, EditedPage, make_config, story
    from tests.support.webview import check

    hook = Webhook()
    env = {**os.environ, WEBHOOK_ENV: hook.url}
    article = EditedPage(story(FIRST, SAID_DEADLINE))
    server.route("/a/troops.html", article)
    server.route("/feed.xml", feed(server.base_url, ["troops"]))
    config = make_config(tmp_path, server, revisit_after="1s")
    try:
        check(config, env)
        article.edit(story(EDITED, SAID_DEADLINE))
        time.sleep(1.2)  # the first revisit is due a second after the first fetch
        report = check(config, env)
    finally:
        hook.stop()
    [revised] = report["changes"]
    assert revised["revision"] is True and revised["new"] == "24"

    served = Served(config)
    tab = Tab(browser)
    try:
        page = tab.open(served.url + "/changes")
        marked = page.locator("article.change", has=page.locator(".badge.revision"))
        assert marked.count() == 1
        assert marked.get_attribute("id") == f"change-{revised['change_id']}"
        assert text_of(marked.locator(".badge.revision")) == "updated article"
        assert text_of(marked.locator(".transition")) == "about 600 → to 24"
        assert text_of(marked.locator("header + .evidence blockquote")) == EDITED
        before = marked.locator(".before-edit")
        assert text_of(before.locator(".before-edit-title")) == "Before the edit, the article said:"
        assert [text_of(q) for q in before.locator("blockquote").all()] == [FIRST]
        assert page.locator("article.change .before-edit").count() == 1
        save_screenshot(page, "changes-revision")

        page = tab.open(served.url + "/")
        card = by_id(page, f"fact-{COUNT}")
        assert text_of(card.locator(".value strong")) == "24"
        assert text_of(card.locator(".badge.revision")) == "updated article"
        assert [text_of(q) for q in card.locator(".before-edit blockquote").all()] == [FIRST]
        assert page.locator(".badge.revision").count() == 1

        page = tab.open(served.url + f"/facts/{COUNT}")
        # The value the edit replaced is a reading of its own, not marked; the new one is.
        readings = {
            text_of(reading.locator("h3")).split(" as of ")[0]: reading
            for reading in page.locator("section.reading").all()
        }
        marked = {value for value, r in readings.items() if r.locator(".badge.revision").count()}
        assert {"about 600", "24"} <= set(readings) and marked == {"24"}
        edited = readings["24"]
        assert [text_of(q) for q in edited.locator(".before-edit blockquote").all()] == [FIRST]
        point = page.locator(f'svg.chart a.point[href="#{edited.get_attribute("id")}"]')
        assert "updated article" in svg_text(point.locator("title"))
        save_screenshot(page, "timeline-revision")
    finally:
        problems = tab.problems
        tab.close()
        code, err = served.stop()
    assert problems == []
    assert code == 0, err
