"""Digests: due at the configured local time across daylight-saving changes, holding the
period's changes, the current facts and the deadline countdown; previewed and sent for
real to an SMTP server (aiosmtpd) and a webhook on 127.0.0.1."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time

from tests.support.alerting import (
    AGADEZ,
    BASE_101,
    WEBHOOK_ENV,
    Inbox,
    Reply,
    Webhook,
    assert_inert,
    dispatcher,
    email_channel,
    free_port,
    mrkdwn_texts,
    news_sites,
    open_state,
    parts,
    publish,
    slack_channel,
    smtp_server,
    write_config,
)
from tests.support.loopback import LoopbackServer
from tests.support.samples import change
from tests.support.samples import digest as sample_digest
from watcher.alerts.digest import digest_for, last_due, period_start, queue_digest
from watcher.alerts.mailer import make_message_id
from watcher.alerts.outbox import enqueue_digest
from watcher.alerts.slack import SECTION_LIMIT, TEXT_LIMIT
from watcher.cli.main import main
from watcher.config import Config, Routing, load_config
from watcher.facts.stories import Story, load_stories
from watcher.models import Digest

PARIS = ZoneInfo("Europe/Paris")
DAILY = Routing(digest="daily", digest_at=time(8, 0))
WEEKLY_FRIDAY = Routing(digest="weekly", digest_day="fri", digest_at=time(8, 0))
DEADLINE = "US withdrawal deadline: 2024-09-15"
# No alert at once, not even about a source gone quiet between the articles.
DIGESTS_ONLY: dict[str, Any] = {"immediate": "none", "health": False}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def hours(start: datetime, end: datetime) -> float:
    """Real time between two instants (aware datetimes in one zone subtract as wall times)."""
    return (end.astimezone(UTC) - start.astimezone(UTC)).total_seconds() / 3600


# -- when digests are due ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "due"),
    [
        # An ordinary summer day (CEST, UTC+2).
        (paris(2024, 8, 12, 7, 59), utc(2024, 8, 11, 6, 0)),
        (paris(2024, 8, 12, 8, 0), utc(2024, 8, 12, 6, 0)),
        (paris(2024, 8, 12, 8, 1), utc(2024, 8, 12, 6, 0)),
        # 2024-03-31: clocks go from 02:00 CET to 03:00 CEST.
        (utc(2024, 3, 31, 5, 59), utc(2024, 3, 30, 7, 0)),  # 07:59 CEST
        (utc(2024, 3, 31, 6, 0), utc(2024, 3, 31, 6, 0)),  # 08:00 CEST
        (utc(2024, 3, 31, 6, 30), utc(2024, 3, 31, 6, 0)),  # 08:30 CEST; 07:30 on CET
        # 2024-10-27: clocks go from 03:00 CEST back to 02:00 CET.
        (utc(2024, 10, 27, 6, 59), utc(2024, 10, 26, 6, 0)),  # 07:59 CET
        (utc(2024, 10, 27, 6, 30), utc(2024, 10, 26, 6, 0)),  # 07:30 CET; 08:30 on CEST
        (utc(2024, 10, 27, 7, 0), utc(2024, 10, 27, 7, 0)),  # 08:00 CET
    ],
)
def test_daily_digest_is_due_at_eight_paris_time(now: datetime, due: datetime) -> None:
    with freeze_time(now):
        found = last_due(DAILY, datetime.now(UTC), PARIS)
    assert found.astimezone(UTC) == due
    assert found.astimezone(PARIS).time() == time(8, 0)


@pytest.mark.parametrize(
    ("now", "real_hours"),
    [
        (utc(2024, 3, 31, 9, 0), 23),  # spring forward: the period loses an hour
        (utc(2024, 10, 27, 9, 0), 25),  # fall back: the period gains one
        (utc(2024, 8, 12, 9, 0), 24),
    ],
)
def test_daily_period_runs_from_eight_to_eight_across_dst(now: datetime, real_hours: int) -> None:
    end = last_due(DAILY, now, PARIS)
    start = period_start(DAILY, end)
    assert hours(start, end) == real_hours
    assert start.astimezone(PARIS).time() == end.astimezone(PARIS).time() == time(8, 0)
    assert end.astimezone(PARIS).date() - start.astimezone(PARIS).date() == timedelta(days=1)


@pytest.mark.parametrize("at", [time(8, 0), time(2, 30), time(0, 0), time(23, 59)])
def test_daily_digest_fires_exactly_once_a_day_through_both_dst_changes(at: time) -> None:
    """02:30 does not exist on 2024-03-31 and happens twice on 2024-10-27: still once a day."""
    routing = Routing(digest="daily", digest_at=at)
    for first_day in (date(2024, 3, 29), date(2024, 10, 25)):
        now = datetime.combine(first_day, time(0, 0), tzinfo=UTC)
        dues = []
        while now < datetime.combine(first_day + timedelta(days=5), time(0, 0), tzinfo=UTC):
            due = last_due(routing, now, PARIS)
            assert due.astimezone(UTC) <= now
            assert hours(due, now) < 25  # never a day skipped
            dues.append(due.astimezone(UTC))
            now += timedelta(minutes=10)
        distinct = sorted(set(dues))
        assert dues == sorted(dues)  # never goes back
        local_days = [d.astimezone(PARIS).date() for d in distinct]
        assert len(local_days) == len(set(local_days))  # never twice on one day
        for due in distinct:
            wall = due.astimezone(PARIS).time()
            # A time that does not exist that night is sent as the clocks reach it.
            assert wall == at or (at == time(2, 30) and wall == time(3, 30))


@pytest.mark.parametrize(
    ("now", "due"),
    [
        (paris(2024, 8, 12, 10, 0), paris(2024, 8, 9, 8, 0)),  # Monday: last Friday
        (paris(2024, 8, 9, 7, 59), paris(2024, 8, 2, 8, 0)),  # Friday, just before
        (paris(2024, 8, 9, 8, 0), paris(2024, 8, 9, 8, 0)),  # Friday, on time
        (paris(2024, 8, 15, 23, 0), paris(2024, 8, 9, 8, 0)),  # Thursday night
    ],
)
def test_weekly_digest_is_due_on_its_weekday(now: datetime, due: datetime) -> None:
    found = last_due(WEEKLY_FRIDAY, now, PARIS)
    assert found.astimezone(UTC) == due.astimezone(UTC)
    assert found.astimezone(PARIS).strftime("%a %H:%M") == "Fri 08:00"
    assert hours(period_start(WEEKLY_FRIDAY, found), found) == 7 * 24


def test_weekly_period_across_spring_forward_is_a_week_less_an_hour() -> None:
    sunday = Routing(digest="weekly", digest_day="sun", digest_at=time(8, 0))
    end = last_due(sunday, utc(2024, 4, 1, 12, 0), PARIS)
    assert end.astimezone(UTC) == utc(2024, 3, 31, 6, 0)
    start = period_start(sunday, end)
    assert start.astimezone(UTC) == utc(2024, 3, 24, 7, 0)
    assert hours(start, end) == 7 * 24 - 1


# -- what a digest holds --------------------------------------------------------------------


@pytest.fixture
def sites() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    with news_sites() as both:
        yield both


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[Controller]:
    controller = smtp_server(inbox, free_port())
    yield controller
    controller.stop()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    webhook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    yield webhook
    webhook.stop()


def check_at(when: datetime, config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    """`watcher check` with the clock at ``when`` (asyncio keeps real time for its timeouts)."""
    with freeze_time(when, real_asyncio=True):
        code = main(["check", "--config", str(config), "--json"])
    assert code in (0, 1)
    return json.loads(capsys.readouterr().out)


def history(
    sites: tuple[LoopbackServer, LoopbackServer],
    config_for: Any,
    capsys: pytest.CaptureFixture[str],
    *,
    base_101_at: datetime,
    agadez_at: datetime,
) -> Path:
    """Air Base 101 reported by the first site, then Agadez (201, completed) by the second."""
    first_site, second_site = sites
    config = config_for([publish(first_site, BASE_101), publish(second_site)])
    report = check_at(base_101_at, config, capsys)
    # The Niamey handover, and with it the withdrawal under way.
    assert {c["key"] for c in report["changes"]} == {
        "bases.air_base_101.status",
        "us_forces.withdrawal_status",
    }
    publish(second_site, AGADEZ)
    report = check_at(agadez_at, config, capsys)
    # Agadez handed over and the withdrawal completed; the page also restates the
    # Niamey handover, which a second site thereby confirms.
    assert {(c["key"], c["event"]) for c in report["changes"]} == {
        ("bases.air_base_201.status", "new"),
        ("us_forces.withdrawal_status", "new"),
        ("us_forces.troop_count", "new"),  # none left
        ("bases.air_base_101.status", "confirmed"),
    }
    return config


def state(config_path: Path) -> tuple[Config, list[Story]]:
    config = load_config(config_path)
    return config, load_stories(config)


def digest_at(config_path: Path, end: datetime, routing: Routing = DAILY) -> Digest:
    config, stories = state(config_path)
    store = open_state(config_path)
    try:
        return digest_for(config, store, stories[0], routing, end=end)
    finally:
        store.close()


@pytest.mark.slow
def test_digest_holds_the_periods_changes_only_across_fall_back(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = history(
        sites,
        lambda feeds: write_config(tmp_path, feeds, timezone="Europe/Paris"),
        capsys,
        base_101_at=utc(2024, 10, 26, 5, 30),  # 07:30 CEST: before the period
        agadez_at=utc(2024, 10, 26, 6, 30),  # 08:30 CEST: inside it
    )
    end = last_due(DAILY, utc(2024, 10, 27, 7, 30), PARIS)  # 08:00 CET, 25 h later
    found = digest_at(config, end)
    assert hours(found.period_start, found.period_end) == 25
    assert {c.key for c in found.changes} == {
        "bases.air_base_201.status",
        "bases.air_base_101.status",  # confirmed in the period
        "us_forces.withdrawal_status",
        "us_forces.troop_count",
    }
    # The day before holds the other change and only that one (the Niamey handover
    # belongs to the period in which a second site confirmed it).
    earlier = digest_at(config, last_due(DAILY, utc(2024, 10, 26, 6, 15), PARIS))
    assert [c.key for c in earlier.changes] == ["us_forces.withdrawal_status"]

    # Every tracked fact, as it stands, with the source it comes from.
    facts = {f.key: f for f in found.facts}
    first_site, second_site = sites
    assert facts["bases.air_base_201.status"].value == "handed over"
    assert facts["bases.air_base_201.status"].source.url == second_site.url("/" + AGADEZ)
    assert facts["bases.air_base_101.status"].value == "handed over"
    assert facts["bases.air_base_101.status"].source.url == first_site.url("/" + BASE_101)
    assert facts["us_forces.withdrawal_status"].value == "completed"
    assert facts["us_forces.withdrawal_deadline"].value == "2024-09-15"
    assert {f.key for f in found.facts} >= {
        "us_forces.troop_count",
        "us_forces.withdrawal_deadline",
    }


@pytest.mark.slow
def test_each_current_fact_is_as_of_the_source_shown_with_it(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.support.checks import RESTATEMENT, page

    def restated(published: str) -> tuple[str, str]:
        title, _, paragraphs = RESTATEMENT
        return (f"news/restated-{published}.html", page((title, published, paragraphs)))

    first_site, second_site = sites
    config = write_config(tmp_path, [publish(first_site), publish(second_site)])
    # Two sites restate the seeds' facts, the later article first: corroboration,
    # which moves no date, so each fact stays as of the seed it comes from.
    publish(first_site, restated("2024-08-20"))
    check_at(utc(2024, 8, 20, 12), config, capsys)
    publish(second_site, restated("2024-08-10"))
    check_at(utc(2024, 8, 21, 12), config, capsys)
    facts = {f.key: f for f in digest_at(config, utc(2024, 8, 22, 8)).facts}
    for key in ("us_forces.troop_count", "us_forces.withdrawal_deadline"):
        fact = facts[key]
        assert fact.source is not None and fact.source.url.startswith("seed:"), key
        assert fact.as_of == fact.source.published == date(2024, 5, 19), key
    assert facts["us_forces.troop_count"].value == "about 1,000"


@pytest.mark.slow
def test_digest_counts_down_to_the_deadline_then_says_what_came_of_it(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = history(
        sites,
        lambda feeds: write_config(tmp_path, feeds, timezone="Europe/Paris"),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    outlook = {
        day: digest_at(config, paris(2024, *day, 8, 0)).outlook
        for day in ((8, 12), (9, 14), (9, 15))
    }
    assert outlook == {
        (8, 12): (f"{DEADLINE}, 34 days left",),
        (9, 14): (f"{DEADLINE}, 1 day left",),
        (9, 15): (f"{DEADLINE}, today",),
    }
    [after] = digest_at(config, paris(2024, 9, 20, 8, 0)).outlook
    assert after.startswith(f"{DEADLINE}, passed 5 days ago; reported since: ")
    for reported in (
        "US withdrawal completed (as of 2024-08-06)",
        "Air Base 201 (Agadez) handed over (as of 2024-08-05)",
        # The value as of the day its sentence names: "returned ... on July 7".
        "Air Base 101 (Niamey) handed over (as of 2024-07-07)",
    ):
        assert reported in after
    # A week on it is no longer coming up; two years on, certainly not.
    assert digest_at(config, paris(2024, 9, 22, 8, 0)).outlook != ()
    assert digest_at(config, paris(2024, 9, 23, 8, 0)).outlook == ()
    assert digest_at(config, paris(2026, 11, 29, 8, 0)).outlook == ()


@pytest.mark.slow
def test_preview_prints_the_digest_and_sends_nothing(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = history(
        sites,
        lambda feeds: write_config(
            tmp_path,
            feeds,
            timezone="Europe/Paris",
            email=email_channel(smtp.port, **DIGESTS_ONLY),
            slack=slack_channel(**DIGESTS_ONLY),
        ),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    with freeze_time("2024-08-07 06:30:00"):
        assert main(["digest", "--preview", "--config", str(config)]) == 0
        text = capsys.readouterr().out
        assert main(["digest", "--config", str(config), "--json"]) == 0
        preview = json.loads(capsys.readouterr().out)
    assert text.startswith("Subject: [watcher] US forces leave Niger: daily digest, 2024-08-07\n")
    assert "2024-08-06 08:30 – 2024-08-07 08:30 CEST" in text
    changes, current = text.split("CURRENT FACTS")
    assert "Air Base 201 (Agadez): operating → handed over" in changes
    assert "US withdrawal: in progress → completed" in changes
    # Reported a month earlier, and confirmed in this period by the Agadez report.
    assert "Air Base 101 (Niamey): unknown → handed over\nStatus: confirmed by 2" in changes
    assert "- Air Base 101 (Niamey): handed over (as of 2024-07-07)" in current
    assert f"- {DEADLINE}, 39 days left" in current
    # The period's changes, as the text shows them: 101 confirmed, 201 handed over,
    # no US troops left, the withdrawal completed.
    assert [c["key"] for c in preview["changes"]] == [
        "bases.air_base_101.status",
        "bases.air_base_201.status",
        "us_forces.troop_count",
        "us_forces.withdrawal_status",
    ]
    assert preview["outlook"] == [f"{DEADLINE}, 39 days left"]
    assert inbox.envelopes == [] and hook.posts == []
    assert main(["outbox", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == []


@pytest.mark.slow
def test_digest_send_delivers_once_by_email_and_slack(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = history(
        sites,
        lambda feeds: write_config(
            tmp_path,
            feeds,
            timezone="Europe/Paris",
            email=email_channel(smtp.port, **DIGESTS_ONLY),
            slack=slack_channel(**DIGESTS_ONLY),
        ),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    assert inbox.envelopes == [] and hook.posts == []  # digests only
    with freeze_time("2024-08-07 06:30:00", real_asyncio=True):
        assert main(["digest", "--send", "--config", str(config), "--json"]) == 0
    sent = json.loads(capsys.readouterr().out)
    assert sorted(a["channel"] for a in sent["sent"]) == ["email", "slack"]
    assert all(a["kind"] == "digest" for a in sent["sent"])

    [mail] = inbox.messages()
    subject = "[watcher] US forces leave Niger: daily digest, 2024-08-07"
    assert mail["Subject"] == subject
    end = paris(2024, 8, 7, 8, 30)
    assert mail["Message-ID"] == make_message_id(
        f"digest:email:{end.isoformat()}", "watcher.example"
    )
    body = parts(mail)
    assert set(body) == {"text/plain", "text/html"}
    for part in body.values():
        words = " ".join(html.unescape(re.sub(r"<[^>]+>", "", part)).split())
        assert f"{DEADLINE}, 39 days left" in words
        assert "operating → handed over" in words and "in progress → completed" in words

    [payload] = hook.posts
    assert payload["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": subject.removeprefix("[watcher] ")},
    }
    slack = "\n".join(mrkdwn_texts(payload))
    assert "*Changes*" in slack and "*Current facts*" in slack and "*Coming up*" in slack
    assert f"• {DEADLINE}, 39 days left" in slack
    assert "operating → *handed over*" in slack

    # Nothing is left to send, and the next pass sends nothing more.
    assert main(["outbox", "--config", str(config), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["alerts"] == []
    check_at(utc(2024, 8, 7, 7, 0), config, capsys)
    assert len(inbox.envelopes) == 1 and len(hook.posts) == 1


@pytest.mark.slow
def test_a_check_on_a_timer_sends_each_digest_once_its_time_has_come(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = history(
        sites,
        lambda feeds: write_config(
            tmp_path, feeds, timezone="Europe/Paris", slack=slack_channel(**DIGESTS_ONLY)
        ),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    assert hook.posts == []  # the mornings of those checks had nothing to report
    # The timer's checks at 07:45, 08:15 and 08:30 Paris time: the digest goes once.
    assert check_at(utc(2024, 8, 7, 5, 45), config, capsys)["digests"] == []
    assert check_at(utc(2024, 8, 7, 6, 15), config, capsys)["digests"] == ["slack"]
    check_at(utc(2024, 8, 7, 6, 30), config, capsys)
    [digest] = hook.posts
    assert digest["text"].startswith("US forces leave Niger: daily digest, 2024-08-07")
    assert "operating → handed over" in digest["text"]
    # A digest more than six hours late is skipped, not sent in the afternoon.
    check_at(utc(2024, 8, 8, 12, 30), config, capsys)
    assert len(hook.posts) == 1


@pytest.mark.slow
def test_digest_queued_twice_for_the_same_period_is_sent_once(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path = history(
        sites,
        lambda feeds: write_config(
            tmp_path,
            feeds,
            timezone="Europe/Paris",
            email=email_channel(smtp.port, **DIGESTS_ONLY),
            slack=slack_channel(**DIGESTS_ONLY),
        ),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    config, stories = state(config_path)
    store = open_state(config_path)
    try:
        # A daemon restarted after 08:00 works out the same due time again.
        for now in (utc(2024, 8, 7, 6, 0, 5), utc(2024, 8, 7, 6, 40)):
            end = last_due(config.notify.email, now, PARIS)
            for channel in ("email", "slack"):
                assert queue_digest(config, store, stories, channel, end=end)
        with dispatcher(config_path) as sender:
            assert len(sender.outbox.listing()) == 2
            assert len(sender.send_due().sent) == 2
            assert sender.send_due().sent == []
        queue_digest(config, store, stories, "email", end=end)
        with dispatcher(config_path) as sender:
            assert sender.send_due().sent == []
    finally:
        store.close()
    [mail] = inbox.messages()
    assert mail["Subject"] == "[watcher] US forces leave Niger: daily digest, 2024-08-07"
    assert len(hook.posts) == 1


@pytest.mark.slow
def test_empty_digest_is_skipped_unless_the_channel_wants_it(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config_path = history(
        sites,
        lambda feeds: write_config(
            tmp_path,
            feeds,
            timezone="Europe/Paris",
            email=email_channel(smtp.port, **DIGESTS_ONLY),
            slack=slack_channel(immediate="none", health=False, empty_digest=True),
        ),
        capsys,
        base_101_at=utc(2024, 7, 8, 10, 0),
        agadez_at=utc(2024, 8, 6, 9, 0),
    )
    config, stories = state(config_path)
    quiet_day = paris(2024, 8, 20, 8, 0)
    store = open_state(config_path)
    try:
        assert queue_digest(config, store, stories, "email", end=quiet_day) == []
        [queued] = queue_digest(config, store, stories, "slack", end=quiet_day)
        assert queued.changes == ()
        # A period with changes goes to both.
        busy_day = paris(2024, 8, 7, 8, 0)
        assert queue_digest(config, store, stories, "email", end=busy_day)
    finally:
        store.close()
    with dispatcher(config_path) as sender:
        sent = sender.send_due().sent
    assert sorted((a.channel, a.payload["period_end"]) for a in sent) == [
        ("email", busy_day.isoformat()),
        ("slack", quiet_day.isoformat()),
    ]
    [mail] = inbox.messages()
    assert "2024-08-07" in mail["Subject"]
    # Each check, a few hours after 08:00, had sent that morning's digest to Slack,
    # which wants them even when empty, as the daemon would have.
    *mornings, payload = hook.posts
    assert [m["text"][:47] for m in mornings] == [
        "US forces leave Niger: daily digest, 2024-07-08",
        "US forces leave Niger: daily digest, 2024-08-06",
    ]
    assert "_No fact changed in this period._" in mrkdwn_texts(payload)
    assert f"{DEADLINE}, 26 days left" in "\n".join(mrkdwn_texts(payload))


# -- hostile article text ---------------------------------------------------------------------

FILLER = " ".join(f"word{i}" for i in range(1400))  # about 10,000 characters
HOSTILE_PAGE = f"""<!doctype html><html><head><meta charset="utf-8">
<title>Base &lt;b&gt;news&lt;/b&gt; &lt;!here&gt;</title>
<meta property="article:published_time" content="2024-08-06T10:00:00Z"></head>
<body><article><h1>Base &lt;b&gt;news&lt;/b&gt; &lt;!here&gt;</h1>
<p>AGADEZ, Aug. 6 — The US military handed over Air Base 201 near Agadez to Niger's armed
forces on Monday, &lt;script&gt;alert(1)&lt;/script&gt; &lt;!channel&gt; &lt;@U123&gt;
&lt;http://evil.example|click here&gt; Tom &amp; Jerry, officials said, {FILLER}.</p>
<p>Further reporting followed from the capital, where ministers met diplomats.</p>
</article></body></html>"""


def assert_safe_html(part: str) -> None:
    for raw in ("<script", "<!channel>", "<!here>", "<@U123>", "<http://evil", "<b>news"):
        assert raw not in part
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in part and "&lt;!channel&gt;" in part
    assert "word1399" not in part and "…" in part  # the quote is cut


def assert_safe_slack(payload: dict[str, Any]) -> None:
    assert_inert(payload)
    dumped = json.dumps(payload, ensure_ascii=False)
    for raw in ("<!channel>", "<!here>", "<@U123>", "<script", "word1399"):
        assert raw not in dumped
    assert "&lt;!channel&gt;" in dumped
    assert len(payload["text"]) <= TEXT_LIMIT
    for text in mrkdwn_texts(payload)[1:]:
        assert len(text) <= SECTION_LIMIT


@pytest.mark.slow
def test_hostile_article_text_is_escaped_and_cut_in_mail_and_slack(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = publish(sites[0], ("news/base.html", HOSTILE_PAGE))
    config = write_config(
        tmp_path,
        [feed],
        timezone="Europe/Paris",
        email=email_channel(smtp.port),
        slack=slack_channel(),
    )
    report = check_at(utc(2024, 8, 6, 12, 0), config, capsys)
    [change] = [c for c in report["changes"] if c["key"] == "bases.air_base_201.status"]
    assert len(change["evidence"][0]["quote"]) > 10_000  # stored whole, shown cut
    with freeze_time("2024-08-07 06:30:00", real_asyncio=True):
        assert main(["digest", "--send", "--config", str(config)]) == 0
    capsys.readouterr()

    *alerts, digest = inbox.messages()
    [alert] = [m for m in alerts if m["X-Watcher-Fact"] == "bases.air_base_201.status"]
    assert "Tom & Jerry" not in alert["Subject"]  # the quote never reaches a header
    assert "\n" not in alert["Subject"]
    for mail in (alert, digest):
        body = parts(mail)
        assert_safe_html(body["text/html"])
        assert "word1399" not in body["text/plain"]
        assert len(body["text/plain"]) < 8000
    assert len(hook.posts) == 3  # the base, the withdrawal under way, the digest
    for payload in hook.posts:
        assert_safe_slack(payload)


def test_long_slack_digest_resumes_after_the_part_that_failed(
    tmp_path: Path, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    """Split in parts, a digest whose second part fails does not post its first part again."""
    changes = [
        replace(change(), change_id=n, label=f"Fact {n}", key=f"fact.{n}") for n in range(40)
    ]
    long_digest = replace(sample_digest(*changes), title="Weekly digest")
    config_path = write_config(
        tmp_path, ["http://127.0.0.1:9/feed.xml"], slack=slack_channel(**DIGESTS_ONLY)
    )
    store = open_state(config_path)
    try:
        with store.transaction() as conn:
            enqueue_digest(conn, long_digest, "slack", at=utc(2024, 8, 12, 6, 0))
    finally:
        store.close()
    hook.replies = [Reply(200), Reply(500, "internal_error")]
    with dispatcher(config_path) as sender:
        first = sender.send_due()
        assert len(first.retrying) == 1
        second = sender.send_due(now=datetime.now(UTC) + timedelta(hours=1))
        assert len(second.sent) == 1
    headers = [p["blocks"][0]["text"]["text"] for p in hook.posts]
    count = len(headers) - 1  # part 2 was posted twice: refused, then taken
    assert count >= 3
    part = [f"Weekly digest ({n}/{count})" for n in range(1, count + 1)]
    assert headers == [part[0], part[1], *part[1:]]
    assert hook.statuses == [200, 500] + [200] * (count - 1)
    assert [p["blocks"][0]["text"]["text"] for p in hook.delivered] == part
