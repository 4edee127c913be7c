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
from datetime import UTC, datetime

_SECRETS: set[str] = set()

# syslog priorities, understood by journald at the start of a stderr line.
_PRIORITY = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


def register_secret(value: str | None) -> None:
    """Mask ``value`` wherever it would appear in a log line."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
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
    # The libraries' chatter is rarely what a watcher user needs.
    # Apprise and httpx log request URLs, which for webhooks are secrets.
    for noisy in ("httpx", "httpcore", "trafilatura", "htmldate", "apscheduler", "apprise"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
