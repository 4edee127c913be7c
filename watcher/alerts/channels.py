"""What the senders of every channel (email, Slack, ...) raise when a delivery fails."""

from __future__ import annotations


class ChannelError(Exception):
    """A delivery that did not happen, and whether trying again can help.

    ``permanent`` failures (bad credentials, an address or webhook that does
    not exist, a payload the service refuses) need someone to fix the
    configuration; the others (a server down, a timeout, a 4xx SMTP reply,
    rate limiting) are worth retrying, after ``retry_after`` seconds when the
    service said how long to wait. The message is one line and never holds a
    secret (password, webhook URL).
    """

    def __init__(self, reason: str, *, permanent: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
