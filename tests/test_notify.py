"""Alerts end to end: `watcher check` against loopback news sites, a real SMTP server
(aiosmtpd) and a real webhook endpoint, with outages, crashes and bad secrets."""

from __future__ import annotations

import html
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from tests.support.alerting import (
    AGADEZ,
    APPRISE_ENV,
    COMPLETED,
    PASSWORD,
    PASSWORD_ENV,
    SECRET_PATH,
    USER,
    WEBHOOK_ENV,
    Inbox,
    Reply,
    Webhook,
    authenticate,
    dispatcher,
    email_channel,
    free_port,
    news_sites,
    open_state,
    parts,
    publish,
    slack_channel,
    smtp_server,
    write_config,
)
from tests.support.loopback import LoopbackServer
from watcher.alerts.mailer import make_message_id
from watcher.cli.main import main
from watcher.config import parse_config
from watcher.status import collect_status
from watcher.store import alerts, open_store, utcnow

BASE_201 = "bases.air_base_201.status"
BASE_101 = "bases.air_base_101.status"
COUNT = "us_forces.troop_count"
WITHDRAWAL = "us_forces.withdrawal_status"
SUBJECT_201 = "[watcher] Air Base 201 (Agadez): operating → handed over"


@pytest.fixture
def sites() -> Iterator[tuple[LoopbackServer, LoopbackServer]]:
    with news_sites() as both:
        yield both


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[Controller]:
    """An SMTP server on 127.0.0.1 that wants a login (without TLS, as a local relay may)."""
    controller = smtp_server(inbox, free_port(), authenticator=authenticate, auth_require_tls=False)
    yield controller
    inbox.release.set()
    controller.stop()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    webhook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    yield webhook
    webhook.stop()


@pytest.fixture(autouse=True)
def smtp_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def login(port: int, **overrides: Any) -> dict[str, Any]:
    return email_channel(port, username=USER, password_env=PASSWORD_ENV, **overrides)


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any]:
    """Run `watcher ARGV --json`; the exit code and the parsed output."""
    code = main([*argv, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def check(capsys: pytest.CaptureFixture[str], config: Path) -> tuple[int, dict[str, Any]]:
    return cli(capsys, "check", "--config", str(config))


def listed(capsys: pytest.CaptureFixture[str], config: Path) -> list[dict[str, Any]]:
    """`watcher outbox --json`: alerts pending, sending, failed or uncertain."""
    code, data = cli(capsys, "outbox", "--config", str(config))
    assert code == 0
    return data["alerts"]


def seconds_from_now(iso: str) -> float:
    return (datetime.fromisoformat(iso) - datetime.now(UTC)).total_seconds()


# -- end to end ---------------------------------------------------------------------


@pytest.mark.slow
def test_change_found_by_check_arrives_once_by_email_and_once_in_slack(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The Agadez article reports four changes (it restates the Niamey handover, and
    # none of the troops are left); both channels send only the Agadez base's at once.
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        email=login(smtp.port, facts=[BASE_201]),
        slack=slack_channel(facts=[BASE_201]),
    )
    code, report = check(capsys, config)
    assert code == 1
    changes = {c["key"]: c for c in report["changes"]}
    assert set(changes) == {BASE_201, BASE_101, WITHDRAWAL, COUNT}
    assert sorted(changes[BASE_201]["alerts"]) == ["email", "slack"]
    assert changes[WITHDRAWAL]["alerts"] == changes[BASE_101]["alerts"] == []
    assert changes[COUNT]["alerts"] == []
    assert [(a["channel"], a["kind"]) for a in report["alerts"]["sent"]] == [
        ("email", "change"),
        ("slack", "change"),
    ]
    article_url = sites[0].url("/" + AGADEZ)

    [envelope] = inbox.envelopes
    assert envelope.rcpt_tos == ["ana@example.org"]
    [mail] = inbox.messages()
    assert mail.get_content_type() == "multipart/alternative"
    body = parts(mail)
    assert set(body) == {"text/plain", "text/html"}
    for part in body.values():
        words = " ".join(html.unescape(part).split())
        assert "operating" in words and "handed over" in words
        assert "raised their country's flag over Air Base 201" in words
    assert f'href="{article_url}"' in body["text/html"] and "<blockquote" in body["text/html"]
    assert article_url in body["text/plain"]
    assert mail["Subject"] == SUBJECT_201
    change_id = changes[BASE_201]["change_id"]
    assert mail["Message-ID"] == make_message_id(
        f"change:{change_id}:reported:email", "watcher.example"
    )
    sent_at = parsedate_to_datetime(mail["Date"])
    assert abs((sent_at - datetime.now(UTC)).total_seconds()) < 60
    assert mail["X-Watcher-Fact"] == BASE_201 and mail["In-Reply-To"] is None

    [payload] = hook.posts
    assert hook.paths == [SECRET_PATH]
    assert payload["text"].startswith(
        "Air Base 201 (Agadez): operating → handed over (reported by 1 source)"
    )
    header, fact, status, source = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Air Base 201 (Agadez)"},
    }
    assert fact["text"]["text"] == "*Air Base 201 (Agadez)*\noperating → *handed over*"
    assert status["elements"][0]["text"].startswith("reported by 1 source")
    assert source["text"]["text"].startswith(">NIAMEY — Nigerien soldiers raised their")
    assert f"<{article_url}|Niger takes control of Agadez drone base" in source["text"]["text"]

    # The second pass finds nothing new and sends nothing.
    code, report = check(capsys, config)
    assert code == 0 and report["changes"] == []
    assert report["alerts"] == {"sent": [], "retrying": [], "failed": []}
    assert len(inbox.envelopes) == 1 and len(hook.posts) == 1
    assert listed(capsys, config) == []


@pytest.mark.slow
def test_confirmation_by_a_second_site_replies_to_the_first_alert_about_the_fact(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    first_site, second_site = sites
    feeds = [publish(first_site, COMPLETED), publish(second_site)]
    config = write_config(tmp_path, feeds, email=login(smtp.port))
    check(capsys, config)
    first = {m["X-Watcher-Fact"]: m for m in inbox.messages()}
    assert set(first) == {BASE_201, WITHDRAWAL, BASE_101, COUNT}
    assert all(m["In-Reply-To"] is None for m in first.values())

    publish(second_site, AGADEZ)  # 127.0.0.2: an independent site says the same
    code, report = check(capsys, config)
    assert code == 1
    assert {(c["key"], c["event"]) for c in report["changes"]} == {
        (BASE_201, "confirmed"),
        (BASE_101, "confirmed"),
        (WITHDRAWAL, "confirmed"),
        (COUNT, "confirmed"),
    }
    follow_ups = {m["X-Watcher-Fact"]: m for m in inbox.messages()[4:]}
    assert set(follow_ups) == {BASE_201, BASE_101, WITHDRAWAL, COUNT}
    for key, reply in follow_ups.items():
        root = first[key]["Message-ID"]
        assert reply["Message-ID"] != root
        assert reply["In-Reply-To"] == root and reply["References"] == root
        assert reply["Subject"] == first[key]["Subject"]  # stable: the status is not in it
        assert reply["Thread-Topic"] == first[key]["Thread-Topic"]
        assert "confirmed by 2 independent sources" in parts(reply)["text/plain"]
    assert follow_ups[BASE_201]["Subject"] == SUBJECT_201

    # A third pass sends nothing more.
    check(capsys, config)
    assert len(inbox.envelopes) == 8


# -- outages ---------------------------------------------------------------------------


@pytest.mark.slow
def test_smtp_server_down_delays_the_alert_which_then_arrives_exactly_once(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    port = free_port()  # nothing listens there yet
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], email=login(port, facts=[BASE_201]))
    code, report = check(capsys, config)
    assert code == 1
    [(retrying)] = report["alerts"]["retrying"]
    assert "connection refused" in retrying["reason"]
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("pending", 1)
    assert f"SMTP 127.0.0.1:{port}: connection refused" == alert["last_error"]
    assert 55 < seconds_from_now(alert["next_attempt"]) <= 60  # retry_backoff = 60

    with dispatcher(config) as sender:
        assert sender.send_due().retrying == []  # not due yet: nothing tried
        # Two hours on, still down: the wait doubles.
        report2 = sender.send_due(now=utcnow() + timedelta(hours=2))
        assert len(report2.retrying) == 1 and report2.sent == []
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("pending", 2)
    assert 115 < seconds_from_now(alert["next_attempt"]) <= 120

    controller = smtp_server(inbox, port, authenticator=authenticate, auth_require_tls=False)
    try:
        with dispatcher(config) as sender:
            assert sender.send_due().sent == []  # the server is back, but the alert is not due
            assert len(sender.send_due(now=utcnow() + timedelta(hours=3)).sent) == 1
            assert sender.send_due(now=utcnow() + timedelta(hours=4)).sent == []
        code, report = check(capsys, config)
        assert report["alerts"]["sent"] == []
    finally:
        controller.stop()
    [mail] = inbox.messages()
    assert mail["Subject"] == SUBJECT_201
    assert listed(capsys, config) == []


@pytest.mark.slow
def test_slack_500_then_429_with_retry_after_then_200_delivers_once(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hook.replies = [
        Reply(500, "internal_error"),
        Reply(429, "rate_limited", {"Retry-After": "900"}),
    ]
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], slack=slack_channel(facts=[BASE_201]))
    check(capsys, config)
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("pending", 1)
    assert alert["last_error"] == "Slack webhook: HTTP 500 internal_error"
    assert 55 < seconds_from_now(alert["next_attempt"]) <= 60

    with dispatcher(config) as sender:
        sender.send_due(now=utcnow() + timedelta(hours=1))
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("pending", 2)
    assert alert["last_error"] == "Slack webhook: HTTP 429 rate_limited"
    # Retry-After (900 s) wins over the backoff (120 s).
    assert 895 < seconds_from_now(alert["next_attempt"]) <= 900

    with dispatcher(config) as sender:
        assert sender.send_due(now=utcnow() + timedelta(seconds=600)).sent == []
        assert len(hook.posts) == 2  # not tried before Slack said it may be
        assert len(sender.send_due(now=utcnow() + timedelta(seconds=901)).sent) == 1
        assert sender.send_due(now=utcnow() + timedelta(hours=5)).sent == []
    assert hook.statuses == [500, 429, 200]
    [delivered] = hook.delivered
    assert delivered["blocks"][0]["text"]["text"] == "Air Base 201 (Agadez)"
    assert hook.posts[0] == delivered  # the same message each time
    assert listed(capsys, config) == []


# -- crashes -----------------------------------------------------------------------------


@pytest.mark.slow
def test_alert_claimed_but_never_recorded_becomes_uncertain_and_is_resent_on_request(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], email=login(smtp.port, facts=[BASE_201]))
    code, report = cli(capsys, "check", "--config", str(config), "--no-send")
    assert code == 1 and report["alerts"] is None
    with dispatcher(config) as sender:
        [alert] = sender.outbox.due()
        assert sender.outbox.claim(alert)  # ... sent, and the process dies before recording
        # A fresh claim may be a sender at work: it is neither resent nor given up.
        assert sender.send_due().sent == []
        assert [a.state for a in sender.outbox.listing()] == ["sending"]
        assert sender.outbox.recover() == 1
        assert sender.send_due(now=utcnow() + timedelta(days=1)).sent == []
    assert inbox.envelopes == []
    [listing] = listed(capsys, config)
    assert listing["state"] == "uncertain"
    assert "watcher outbox retry" in listing["last_error"]
    code, _ = check(capsys, config)
    assert inbox.envelopes == []

    code, data = cli(capsys, "outbox", "--config", str(config), "retry")
    assert code == 0 and data["requeued"] == 1
    assert [a["channel"] for a in data["alerts"]["sent"]] == ["email"]
    [mail] = inbox.messages()
    assert mail["Message-ID"] == make_message_id(alert.idempotency_key, "watcher.example")
    assert cli(capsys, "outbox", "--config", str(config), "retry")[1]["requeued"] == 0
    assert len(inbox.envelopes) == 1


@pytest.mark.slow
def test_check_killed_after_the_server_took_the_mail_does_not_send_it_again(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], email=login(smtp.port, facts=[BASE_201]))
    # The server accepts the message, then holds its answer to QUIT: the sender has
    # heard "250 accepted" but has not recorded it when it is killed.
    inbox.hold_quit = True
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "check", "--config", str(config)],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert inbox.quitting.wait(timeout=20), "the check never sent its alert"
    finally:
        process.kill()  # SIGKILL: no handler, no cleanup
        process.wait()
    assert process.returncode == -9
    inbox.hold_quit = False
    inbox.release.set()
    assert len(inbox.envelopes) == 1
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("sending", 1)

    # The next run, at once: the claim is fresh (it might be a live sender), so it waits.
    code, report = check(capsys, config)
    assert code == 0 and report["alerts"]["sent"] == []
    assert len(inbox.envelopes) == 1

    # Eleven minutes later the claim is taken as dead: uncertain, and still not resent.
    store = open_state(config)
    try:
        with store.transaction() as conn:
            conn.execute(update(alerts).values(next_attempt=utcnow() - timedelta(minutes=11)))
    finally:
        store.close()
    code, report = check(capsys, config)
    assert report["alerts"]["sent"] == []
    [alert] = listed(capsys, config)
    assert alert["state"] == "uncertain"
    assert len(inbox.envelopes) == 1

    # Only on request, and then as the same message (same Message-ID) for clients to merge.
    cli(capsys, "outbox", "--config", str(config), "retry")
    first, again = inbox.messages()
    assert first["Message-ID"] == again["Message-ID"]


# -- permanent failures and secrets ----------------------------------------------------------


@pytest.mark.slow
def test_rejected_login_fails_after_one_attempt_visibly_and_retry_resends(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], email=login(smtp.port, facts=[BASE_201]))
    code, report = check(capsys, config)
    assert code == 1
    [failed] = report["alerts"]["failed"]
    assert "login refused: 535" in failed["reason"]
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("failed", 1)

    # Failed for good: never tried again by later passes, however late.
    with dispatcher(config) as sender:
        assert sender.send_due(now=utcnow() + timedelta(days=30)).failed == []
    assert main(["outbox", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "failed" in text and "email" in text and "login refused: 535" in text
    _, status = cli(capsys, "status", "--config", str(config))
    assert status["alerts"] == {"pending": 0, "sending": 0, "failed": 1, "uncertain": 0}
    main(["status", "--config", str(config)])
    assert "alerts: 0 pending, 1 failed" in capsys.readouterr().out

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)  # the configuration is fixed
    _, data = cli(capsys, "outbox", "--config", str(config), "retry")
    assert data["requeued"] == 1 and len(data["alerts"]["sent"]) == 1
    assert [m["Subject"] for m in inbox.messages()] == [SUBJECT_201]
    assert cli(capsys, "status", "--config", str(config))[1]["alerts"]["failed"] == 0


@pytest.mark.slow
def test_webhook_404_fails_after_one_post_and_retry_resends(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hook.reply = Reply(404, "no_service")
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], slack=slack_channel(facts=[BASE_201]))
    check(capsys, config)
    [alert] = listed(capsys, config)
    assert (alert["state"], alert["attempts"]) == ("failed", 1)
    assert alert["last_error"] == "Slack webhook: HTTP 404 no_service"
    check(capsys, config)
    assert hook.statuses == [404]
    assert cli(capsys, "status", "--config", str(config))[1]["alerts"]["failed"] == 1

    hook.reply = Reply()
    cli(capsys, "outbox", "--config", str(config), "retry")
    assert hook.statuses == [404, 200]
    assert listed(capsys, config) == []


@pytest.mark.slow
def test_outbox_retry_sends_an_alert_waiting_out_its_backoff_now(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hook.replies = [Reply(500, "internal_error")]
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], slack=slack_channel(facts=[BASE_201]))
    check(capsys, config)
    [alert] = listed(capsys, config)
    assert alert["state"] == "pending" and seconds_from_now(alert["next_attempt"]) > 50

    assert main(["outbox", "--config", str(config), "retry"]) == 0
    assert capsys.readouterr().out.startswith("1 alert(s) to send now\n")
    assert hook.statuses == [500, 200]
    assert listed(capsys, config) == []


@pytest.mark.slow
def test_outbox_retry_of_an_unknown_or_sent_alert_is_an_error(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], slack=slack_channel(facts=[BASE_201]))
    _, report = check(capsys, config)
    [sent] = report["alerts"]["sent"]
    assert main(["outbox", "--config", str(config), "retry", "999"]) == 2
    assert (
        capsys.readouterr().err
        == "watcher: error: no alert 999 in the outbox (see `watcher outbox`)\n"
    )
    assert main(["outbox", "--config", str(config), "retry", str(sent["id"])]) == 2
    assert "was sent already" in capsys.readouterr().err
    assert hook.statuses == [200]


@pytest.mark.slow
def test_missing_secret_is_a_permanent_failure_naming_the_variable(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(PASSWORD_ENV)
    monkeypatch.delenv(WEBHOOK_ENV)
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        email=login(smtp.port, facts=[BASE_201]),
        slack=slack_channel(facts=[BASE_201]),
    )
    check(capsys, config)
    errors = {a["channel"]: (a["state"], a["last_error"]) for a in listed(capsys, config)}
    assert errors == {
        "email": ("failed", f"SMTP password: environment variable {PASSWORD_ENV} is not set"),
        "slack": ("failed", f"Slack webhook: environment variable {WEBHOOK_ENV} is not set"),
    }
    assert inbox.envelopes == [] and hook.posts == []


@pytest.mark.slow
def test_secrets_never_appear_in_logs_errors_or_json(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    smtp: Controller,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong_password = "Wrong-but-SECRET-pw"
    monkeypatch.setenv(PASSWORD_ENV, wrong_password)
    # A proxy in front of the webhook that echoes the URL it failed to reach.
    escaped_path = SECRET_PATH.replace("/", "\\/")
    hook.reply = Reply(502, f'upstream error for POST {hook.url} {{"path": "{escaped_path}"}}')
    secrets = (wrong_password, SECRET_PATH.rsplit("/", 1)[1])
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        email=login(smtp.port, facts=[BASE_201]),
        slack=slack_channel(facts=[BASE_201]),
    )

    outputs = []
    assert main(["check", "--config", str(config), "--json", "-v"]) == 1
    captured = capsys.readouterr()
    outputs += [captured.out, captured.err]
    assert "alert" in captured.err  # the failures were logged, just not the secrets
    with caplog.at_level(logging.DEBUG, logger="watcher"), dispatcher(config) as sender:
        report = sender.send_due(now=utcnow() + timedelta(hours=1))
    assert len(report.retrying) == 1  # the webhook was tried again; the login failed for good
    outputs.append(caplog.text)
    outputs += [r.getMessage() for r in caplog.records]
    for command in (["outbox"], ["status"]):
        for extra in ([], ["--json"]):
            main([*command, "--config", str(config), *extra])
            outputs.append(capsys.readouterr().out)
    errors = [a["last_error"] for a in listed(capsys, config)]
    assert len(errors) == 2 and all(errors)
    outputs += errors
    for output in outputs:
        for secret in secrets:
            assert secret not in output, output


@pytest.mark.slow
@pytest.mark.parametrize(
    "echo",
    [
        quote(SECRET_PATH, safe=""),
        quote(SECRET_PATH, safe="").lower(),
        SECRET_PATH.rsplit("/", 1)[1],
        quote(SECRET_PATH.rsplit("/", 1)[1] + "?", safe=""),
    ],
    ids=["path-url-encoded", "path-url-encoded-lowercase", "last-segment", "segment-encoded"],
)
def test_webhook_echoing_its_secret_in_another_form_never_shows_it(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    echo: str,
) -> None:
    """A server that echoes the path URL-encoded, or only its last segment, put it in
    last_error, in --json and in the log."""
    hook.reply = Reply(500, f"no route to {echo} today")
    token = SECRET_PATH.rsplit("/", 1)[1]
    feed = publish(sites[0], AGADEZ)
    config = write_config(tmp_path, [feed], slack=slack_channel(facts=[BASE_201]))
    assert main(["check", "--config", str(config), "--json", "-v"]) == 1
    captured = capsys.readouterr()
    [alert] = listed(capsys, config)
    assert alert["last_error"].startswith("Slack webhook: HTTP 500")
    for output in (captured.out, captured.err, alert["last_error"]):
        assert token not in output and token.lower() not in output.lower(), output


@pytest.mark.slow
def test_apprise_url_is_not_logged_under_v(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """urllib3 (under Apprise) logged "POST /path" with the token; the redaction only
    knew the whole json:// URL."""
    pytest.importorskip("apprise")
    token = "SECRETappriseTOKEN42"
    monkeypatch.setenv(APPRISE_ENV, f"json://127.0.0.1:{hook.base_url.rsplit(':', 1)[1]}/h/{token}")
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        apprise=[{"name": "ops", "url_env": APPRISE_ENV, "immediate": "all", "facts": [BASE_201]}],
    )
    assert main(["notify", "test", "--config", str(config), "-v"]) == 0
    assert main(["check", "--config", str(config), "-v"]) == 1
    captured = capsys.readouterr()
    assert hook.paths == [f"/h/{token}"] * 2  # delivered, and not written anywhere
    assert token not in captured.out + captured.err


def test_status_masks_the_database_password(tmp_path: Path) -> None:
    """`watcher status --json` printed state.url with its password."""
    config = parse_config(
        {"state": {"url": "postgresql+psycopg://watcher:hunter2@db.test/watcher"}},
        tmp_path / "watcher.toml",
    )
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        status = collect_status(config, store)
    finally:
        store.close()
    assert status["database"] == "postgresql+psycopg://watcher:***@db.test/watcher"


def test_notify_test_says_which_channel_worked(
    tmp_path: Path,
    smtp: Controller,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hook.reply = Reply(500, "internal_error")
    config = write_config(
        tmp_path, ["http://127.0.0.1:9/feed.xml"], email=login(smtp.port), slack=slack_channel()
    )
    assert main(["notify", "test", "--config", str(config)]) == 2
    out = capsys.readouterr().out
    assert "email: ok" in out
    assert "slack: FAILED: Slack webhook: HTTP 500 internal_error" in out
    [mail] = inbox.messages()
    assert "Test message from watcher" in mail["Subject"]

    code, results = cli(capsys, "notify", "test", "--config", str(config))
    assert code == 2
    assert results["email"] == {"ok": True, "error": None}
    assert results["slack"]["ok"] is False and "HTTP 500" in results["slack"]["error"]

    hook.reply = Reply()
    code, results = cli(capsys, "notify", "test", "--config", str(config))
    assert code == 0 and all(r["ok"] for r in results.values())
    assert len(inbox.envelopes) == 3 and hook.statuses == [500, 500, 200]
    assert "Test message from watcher" in hook.posts[-1]["text"]
    # A test sends straight away and leaves nothing in the outbox.
    assert listed(capsys, config) == []


def test_notify_test_with_the_mail_server_down_and_slack_up(
    tmp_path: Path, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    config = write_config(
        tmp_path, ["http://127.0.0.1:9/feed.xml"], email=login(port), slack=slack_channel()
    )
    code, results = cli(capsys, "notify", "test", "--config", str(config))
    assert code == 2
    assert results["email"] == {
        "ok": False,
        "error": f"SMTP 127.0.0.1:{port}: connection refused",
    }
    assert results["slack"] == {"ok": True, "error": None}
    assert hook.statuses == [200]


# -- Apprise -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_apprise_channel_delivers_to_a_loopback_json_endpoint(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("apprise")
    port = hook.base_url.rsplit(":", 1)[1]
    monkeypatch.setenv(APPRISE_ENV, f"json://127.0.0.1:{port}/apprise-hook")
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        apprise=[{"name": "ops", "url_env": APPRISE_ENV, "immediate": "all", "facts": [BASE_201]}],
    )
    _, report = check(capsys, config)
    assert [a["channel"] for a in report["alerts"]["sent"]] == ["apprise:ops"]
    assert hook.paths == ["/apprise-hook"]
    [post] = hook.posts
    assert post["title"] == SUBJECT_201
    assert "Air Base 201 (Agadez): operating → handed over" in post["message"]
    assert "raised their country's flag" in post["message"]
    check(capsys, config)
    assert len(hook.posts) == 1


@pytest.mark.slow
def test_apprise_endpoint_down_is_retried(
    tmp_path: Path,
    sites: tuple[LoopbackServer, LoopbackServer],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytest.importorskip("apprise")
    monkeypatch.setenv(APPRISE_ENV, f"json://127.0.0.1:{free_port()}/apprise-hook")
    feed = publish(sites[0], AGADEZ)
    config = write_config(
        tmp_path,
        [feed],
        apprise=[{"name": "ops", "url_env": APPRISE_ENV, "immediate": "all", "facts": [BASE_201]}],
    )
    check(capsys, config)
    [alert] = listed(capsys, config)
    assert (alert["channel"], alert["state"], alert["attempts"]) == ("apprise:ops", "pending", 1)
    assert "did not take the message" in alert["last_error"]
