from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import Envelope, Session
from freezegun import freeze_time

from tests.support.alerting import PASSWORD, USER, authenticate, free_port
from tests.support.samples import HOSTILE, change, digest, evidence
from watcher.alerts.channels import ChannelError
from watcher.alerts.mailer import (
    MailSettings,
    build_alert_message,
    build_digest_message,
    make_message_id,
    send_mail,
)
from watcher.alerts.render import Renderer, load_templates


class Inbox:
    """An aiosmtpd handler keeping what it receives; some recipients can be refused."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(
        self,
        server: SMTPServer,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTPServer, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        return [
            message_from_bytes(e.original_content or b"", policy=policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]


def start(inbox: Inbox, **kwargs: Any) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[Controller]:
    """A plain SMTP server that accepts a login (without TLS, as a local relay may)."""
    controller = start(inbox, authenticator=authenticate, auth_require_tls=False)
    yield controller
    controller.stop()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_templates()


def settings(port: int, **overrides: Any) -> MailSettings:
    values: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "watcher <alerts@watcher.example>",
        "recipients": ("ana@example.org", "bo@example.org"),
        "timeout": 5.0,
    }
    return MailSettings(**{**values, **overrides})


def alert_message(
    renderer: Renderer, mail: MailSettings, key: str = "change:7:email", **kwargs: Any
) -> EmailMessage:
    fact_change = kwargs.pop("fact_change", None) or change()
    return build_alert_message(
        renderer.alert(fact_change),
        fact_change,
        mail,
        make_message_id(key, mail.domain),
        **kwargs,
    )


def parts(message: EmailMessage) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.iter_parts()}


def test_message_id_is_derived_from_the_idempotency_key() -> None:
    first = make_message_id("change:7:email", "watcher.example")
    assert first == make_message_id("change:7:email", "watcher.example")
    assert first != make_message_id("change:8:email", "watcher.example")
    assert first.startswith("<") and first.endswith("@watcher.example>")
    assert settings(25).domain == "watcher.example"
    for bad in ("", "a b.example", "x@y.example", "evil>\r\nBcc: x"):
        with pytest.raises(ValueError):
            make_message_id("k", bad)


def test_alert_arrives_as_text_and_html_with_its_headers(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    mail = settings(smtp.port)
    with freeze_time("2024-08-05 12:34:56"):
        message = alert_message(renderer, mail)
    send_mail(mail, message)

    [envelope] = inbox.envelopes
    assert envelope.mail_from == "alerts@watcher.example"
    assert envelope.rcpt_tos == ["ana@example.org", "bo@example.org"]
    [received] = inbox.messages()
    assert received.get_content_type() == "multipart/alternative"
    body = parts(received)
    assert set(body) == {"text/plain", "text/html"}
    rendered = renderer.alert(change())
    assert body["text/plain"].replace("\r\n", "\n") == rendered.text
    assert "<blockquote" in body["text/html"]
    assert received["Subject"] == "[watcher] Air Base 201 status: operating → handed over"
    assert received["Message-ID"] == make_message_id("change:7:email", "watcher.example")
    assert parsedate_to_datetime(received["Date"]) == datetime(2024, 8, 5, 12, 34, 56, tzinfo=UTC)
    assert received["Thread-Topic"] == "[watcher] Air Base 201 status"
    assert received["X-Watcher-Fact"] == "bases.air_base_201.status"
    assert received["In-Reply-To"] is None and received["References"] is None


def test_follow_up_on_the_same_fact_replies_to_the_first_alert(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    mail = settings(smtp.port)
    first = alert_message(renderer, mail, key="change:7:email")
    root_id = first["Message-ID"]
    follow_up = alert_message(
        renderer,
        mail,
        key="change:9:email",
        fact_change=change(old="handed over", new="withdrawing"),
        thread_root_id=root_id,
    )
    send_mail(mail, first)
    send_mail(mail, follow_up)

    received_first, received_follow_up = inbox.messages()
    assert received_first["In-Reply-To"] is None
    assert received_follow_up["Message-ID"] != root_id
    assert received_follow_up["In-Reply-To"] == root_id
    assert received_follow_up["References"] == root_id
    assert received_follow_up["Thread-Topic"] == received_first["Thread-Topic"]


def test_hostile_article_text_arrives_escaped_and_truncated(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    long_tail = " ".join(f"filler{i}" for i in range(300))
    mail = settings(smtp.port)
    hostile = change(evidence(quote=f"{HOSTILE} {long_tail}", title="<script>x()</script>"))
    send_mail(mail, alert_message(renderer, mail, fact_change=hostile))

    body = parts(inbox.messages()[0])
    html, text = body["text/html"], body["text/plain"]
    assert "<script" not in html and "<!channel>" not in html
    assert "&lt;script&gt;" in html and "&lt;!channel&gt;" in html
    assert "filler0" in text and "filler299" not in text and "filler299" not in html
    assert "…" in text and "…" in html


def test_digest_arrives_as_text_and_html(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    mail = settings(smtp.port)
    outlook = ("34 days left to the withdrawal deadline (2024-09-15)",)
    rendered = renderer.digest(digest(change(), outlook=outlook))
    message_id = make_message_id("digest:2024-08-12:email", mail.domain)
    send_mail(mail, build_digest_message(rendered, mail, message_id))

    [received] = inbox.messages()
    body = parts(received)
    assert set(body) == {"text/plain", "text/html"}
    assert outlook[0] in body["text/plain"] and outlook[0] in body["text/html"]
    assert received["Subject"] == rendered.subject
    assert received["Message-ID"] == message_id
    assert received["In-Reply-To"] is None


def test_login_is_used_and_a_wrong_password_is_permanent_and_not_shown(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    good = settings(smtp.port, username=USER, password=PASSWORD)
    send_mail(good, alert_message(renderer, good))
    assert len(inbox.envelopes) == 1

    wrong = "not-the-" + PASSWORD
    bad = settings(smtp.port, username=USER, password=wrong)
    with pytest.raises(ChannelError) as caught:
        send_mail(bad, alert_message(renderer, bad))
    assert caught.value.permanent
    assert "535" in str(caught.value) and f"127.0.0.1:{smtp.port}" in str(caught.value)
    assert wrong not in str(caught.value) and wrong not in repr(bad)
    assert len(inbox.envelopes) == 1


@pytest.mark.parametrize(
    ("reply", "permanent"),
    [("550 5.1.1 No such user", True), ("451 4.3.0 Try again later", False)],
)
def test_refused_recipients(
    smtp: Controller, inbox: Inbox, renderer: Renderer, reply: str, permanent: bool
) -> None:
    inbox.refuse = {"ana@example.org": reply, "bo@example.org": reply}
    mail = settings(smtp.port)
    with pytest.raises(ChannelError) as caught:
        send_mail(mail, alert_message(renderer, mail))
    assert caught.value.permanent is permanent
    assert reply.split()[0] in str(caught.value) and "\n" not in str(caught.value)


def test_one_refused_recipient_does_not_fail_the_others(
    smtp: Controller, inbox: Inbox, renderer: Renderer, caplog: pytest.LogCaptureFixture
) -> None:
    inbox.refuse = {"bo@example.org": "550 5.1.1 No such user"}
    mail = settings(smtp.port)
    send_mail(mail, alert_message(renderer, mail))
    assert inbox.envelopes[0].rcpt_tos == ["ana@example.org"]
    assert "bo@example.org" in caplog.text


def test_server_down_is_temporary(renderer: Renderer) -> None:
    mail = settings(free_port())
    with pytest.raises(ChannelError) as caught:
        send_mail(mail, alert_message(renderer, mail))
    assert not caught.value.permanent
    assert "connection refused" in str(caught.value)


@pytest.mark.slow
def test_server_that_never_answers_is_temporary(renderer: Renderer) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mail = settings(silent.getsockname()[1], timeout=0.3)
        with pytest.raises(ChannelError) as caught:
            send_mail(mail, alert_message(renderer, mail))
    assert not caught.value.permanent
    assert "no answer within 0.3 s" in str(caught.value)


def test_starttls_required_but_not_offered_is_permanent_and_sends_nothing(
    smtp: Controller, inbox: Inbox, renderer: Renderer
) -> None:
    mail = settings(smtp.port, security="starttls", username=USER, password=PASSWORD)
    with pytest.raises(ChannelError) as caught:
        send_mail(mail, alert_message(renderer, mail))
    assert caught.value.permanent and "STARTTLS" in str(caught.value)
    assert inbox.envelopes == []


# -- TLS, with a certificate made for the test ----------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            *["openssl", "req", "-x509", "-nodes", "-days", "1"],
            *["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
            *["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            *["-keyout", str(key), "-out", str(cert)],
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


@pytest.fixture
def server_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def client_tls(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificate[0]))


def test_starttls_then_login(
    inbox: Inbox, renderer: Renderer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    controller = start(
        inbox, tls_context=server_tls, require_starttls=True, authenticator=authenticate
    )
    try:
        mail = settings(
            controller.port,
            security="starttls",
            username=USER,
            password=PASSWORD,
            ssl_context=client_tls,
        )
        send_mail(mail, alert_message(renderer, mail))
        assert len(inbox.envelopes) == 1

        untrusted = settings(controller.port, security="starttls")
        with pytest.raises(ChannelError) as caught:
            send_mail(untrusted, alert_message(renderer, untrusted))
        assert caught.value.permanent and "certificate" in str(caught.value)
        assert len(inbox.envelopes) == 1
    finally:
        controller.stop()


def test_implicit_tls(
    inbox: Inbox, renderer: Renderer, server_tls: ssl.SSLContext, client_tls: ssl.SSLContext
) -> None:
    controller = start(inbox, ssl_context=server_tls)
    try:
        mail = settings(controller.port, security="tls", ssl_context=client_tls)
        send_mail(mail, alert_message(renderer, mail))
        assert len(inbox.envelopes) == 1
    finally:
        controller.stop()
