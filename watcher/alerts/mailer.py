"""Alerts and digests by email over SMTP, with the standard library only.

Messages are multipart/alternative (plain text and HTML). Their Message-ID
comes from the alert's idempotency key, so a message sent twice is the same
message to the receiving side; follow-up alerts about a fact reply to the
first one (In-Reply-To, References) so that mail clients thread a fact's
story. Failures become :class:`ChannelError`, permanent when only a change
of configuration can help. The password never appears in an error or a log.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Literal

from watcher.alerts.channels import ChannelError
from watcher.alerts.render import (
    RenderedAlert,
    RenderedDigest,
    RenderedMessage,
    StoryView,
    clean,
    thread_topic,
)
from watcher.models import FactChange

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sender: str
    recipients: tuple[str, ...]
    timeout: float = 30.0
    # Whom to trust for the server's certificate; None: the system's certificate authorities.
    ssl_context: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    @property
    def domain(self) -> str:
        """The sender's mail domain, for Message-IDs."""
        return parseaddr(self.sender)[1].rpartition("@")[2]


def make_message_id(idempotency_key: str, domain: str) -> str:
    """``<hash.watcher@domain>``: always the same for the same key."""
    if not domain or any(ch in domain for ch in '<>@()[]\\",; \t\r\n'):
        raise ValueError(f"not a mail domain: {domain!r}")
    digest = hashlib.sha256(idempotency_key.encode()).hexdigest()[:32]
    return f"<{digest}.watcher@{domain}>"


def _message(rendered: RenderedMessage, settings: MailSettings, message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = rendered.subject
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.recipients)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    # RFC 3834: vacation responders and the like should not answer.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def build_alert_message(
    rendered: RenderedAlert,
    change: FactChange,
    settings: MailSettings,
    message_id: str,
    thread_root_id: str | None = None,
    story: StoryView | None = None,
) -> EmailMessage:
    """An alert; ``thread_root_id`` is the Message-ID of the first alert about the same fact;
    ``story``, when stories are named, is in the thread's topic and a header to filter on."""
    message = _message(rendered, settings, message_id)
    message["Thread-Topic"] = thread_topic(change.label, story)
    message["X-Watcher-Fact"] = change.key
    if story is not None:
        message["X-Watcher-Story"] = story.name
    if thread_root_id and thread_root_id != message_id:
        message["In-Reply-To"] = thread_root_id
        message["References"] = thread_root_id
    return message


def build_digest_message(
    rendered: RenderedDigest, settings: MailSettings, message_id: str
) -> EmailMessage:
    return _message(rendered, settings, message_id)


# -- sending -------------------------------------------------------------------

# What each refusal means, for the one-line reason.
_REFUSALS: list[tuple[type[smtplib.SMTPResponseException], str]] = [
    (smtplib.SMTPAuthenticationError, "login refused"),
    (smtplib.SMTPSenderRefused, "sender refused"),
    (smtplib.SMTPDataError, "message refused"),
    (smtplib.SMTPConnectError, "connection refused by the server"),
    (smtplib.SMTPHeloError, "greeting refused"),
]


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"{code} {clean(text)}"[:200]


def _replies(refused: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{addr}: {_reply(code, text)}" for addr, (code, text) in refused.items())


def _unreachable(exc: Exception, timeout: float) -> str:
    # smtplib reports a timeout while reading a reply as a disconnection caused by it.
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "the server closed the connection"
    return clean(f"{type(exc).__name__}: {exc}")


def _deliver(settings: MailSettings, message: EmailMessage) -> dict[str, tuple[int, bytes]]:
    context = settings.ssl_context or ssl.create_default_context()
    smtp: smtplib.SMTP
    if settings.security == "tls":
        smtp = smtplib.SMTP_SSL(
            settings.host, settings.port, timeout=settings.timeout, context=context
        )
    else:
        smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    with smtp:
        if settings.security == "starttls":
            smtp.starttls(context=context)
        if settings.username:
            smtp.login(settings.username, settings.password or "")
        return smtp.send_message(
            message, from_addr=settings.sender, to_addrs=list(settings.recipients)
        )


def send_mail(settings: MailSettings, message: EmailMessage) -> None:
    """Hand ``message`` to the SMTP server; raise :class:`ChannelError` if it was not taken.

    Permanent: a 5xx reply (bad login, refused sender, every recipient
    refused, message refused), a server without STARTTLS or AUTH when they
    are needed, an untrusted certificate. Temporary: a 4xx reply, a refused
    or dropped connection, a timeout. When some recipients are refused and
    others accept, the message is sent: the refusals are logged, not raised,
    since sending again would repeat it to those who have it.
    """
    where = f"SMTP {settings.host}:{settings.port}"
    try:
        refused = _deliver(settings, message)
    except smtplib.SMTPRecipientsRefused as exc:
        reason = f"every recipient refused ({_replies(exc.recipients)})"
        permanent = all(code >= 500 for code, _ in exc.recipients.values())
    except smtplib.SMTPResponseException as exc:
        what = next((words for kind, words in _REFUSALS if isinstance(exc, kind)), "refused")
        reason = f"{what}: {_reply(exc.smtp_code, exc.smtp_error)}"
        permanent = exc.smtp_code >= 500
    except smtplib.SMTPNotSupportedError as exc:
        reason, permanent = clean(str(exc)), True
    except ssl.SSLCertVerificationError as exc:
        reason, permanent = f"certificate not trusted ({exc.verify_message})", True
    except (smtplib.SMTPException, OSError) as exc:
        reason, permanent = _unreachable(exc, settings.timeout), False
    else:
        if refused:
            log.warning("%s: sent, but some recipients refused (%s)", where, _replies(refused))
        return
    raise ChannelError(f"{where}: {reason}", permanent=permanent)
