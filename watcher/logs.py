"""Logging to stderr: journald-friendly text by default, JSON on request.

Under systemd (``$JOURNAL_STREAM`` set) lines carry a ``<N>`` priority
prefix and no timestamp, since the journal adds its own. Registered secrets
are masked in every line, whatever logged them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from contextlib import suppress
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

_SECRETS: set[str] = set()
# Longest first, so that a whole URL is masked before the path inside it.
_ORDERED: list[str] = []
# A part of a secret URL shorter than this (a path like "/hook") is too common to mask.
MIN_PART = 6

# syslog priorities, understood by journald at the start of a stderr line.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def secret_forms(value: str) -> set[str]:
    """Every form in which ``value`` may come back: whole, and for a URL its path, last
    path segment, password and query values; each also percent-encoded and JSON-escaped.

    A webhook's secret is its path; a server or a library may echo the path,
    its last segment, or either URL-encoded, without the rest of the URL.
    """
    parts = {value}
    with suppress(ValueError):
        url = urlsplit(value)
        if url.scheme and url.netloc:
            parts |= {url.path, url.path.rstrip("/").rsplit("/", 1)[-1], url.password or ""}
            parts |= {v for _, v in parse_qsl(url.query)}
    forms: set[str] = set()
    for part in parts:
        if len(part) < MIN_PART and part != value:
            continue
        forms |= {part, quote(part, safe=""), quote(part, safe="/"), part.replace("/", "\\/")}
        forms |= {quote(part, safe="").lower(), quote(part, safe="/").lower()}
    return {form for form in forms if len(form) >= 4}


NOISY_LOGGERS = (
    "httpx",
    "httpcore",
    "urllib3",
    "requests",
    "trafilatura",
    "htmldate",
    "apscheduler",
    "apprise",
)


def register_secret(value: str | None) -> None:
    """Mask ``value``, in every form :func:`secret_forms` gives, wherever it would appear
    in a log line or an error that watcher keeps."""
    if value and len(value) >= 4:
        _SECRETS.update(secret_forms(value))
        _ORDERED[:] = sorted(_SECRETS, key=len, reverse=True)


def redact(text: str) -> str:
    for secret in _ORDERED:
        text = text.replace(secret, "***")
    return text


class _Redacting(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JournalFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        priority = _PRIORITY.get(record.levelno, 6)
        return "\n".join(f"<{priority}>{line}" for line in super().format(record).splitlines())


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, ensure_ascii=False))


def setup_logging(
    *, verbose: bool = False, style: str = "auto", default: int = logging.WARNING
) -> None:
    """``style`` is auto, text or json; auto picks the journal form under systemd."""
    if style == "auto":
        style = "journal" if os.environ.get("JOURNAL_STREAM") else "text"
    handler = logging.StreamHandler(sys.stderr)
    if style == "json":
        handler.setFormatter(JsonFormatter())
    elif style == "journal":
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(_Redacting("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else default)
    # The libraries' chatter is rarely what a watcher user needs, even with -v.
    # Apprise, httpx and urllib3 (under Apprise, through requests) log request
    # URLs and paths, which for webhooks are secrets.
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # The daemon says in its own words when a job is skipped or fails; APScheduler's
    # warnings ("maximum number of running instances reached") would repeat it.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
