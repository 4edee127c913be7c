"""What a fetch gives: a :class:`FetchResult`, or a :class:`FetchError` whose ``str()``
is one line naming the URL and what went wrong; and the two ways one attempt can fail
(:class:`Retry`, :class:`Refused`), which the client turns into a FetchError.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import httpx

FetchErrorKind = Literal[
    "timeout",
    "http_status",
    "too_large",
    "redirects",
    "private_address",
    "scheme",
    "connection",
    "invalid_url",
    "decoding",
]


class FetchError(Exception):
    """A URL that could not be fetched; ``str()`` is ``"<url>: <reason>"``.

    ``kind`` tells callers what sort of failure it was without parsing the
    message; ``status`` is the HTTP status when there was one.
    """

    def __init__(
        self,
        url: str,
        reason: str,
        kind: FetchErrorKind = "connection",
        *,
        status: int | None = None,
    ) -> None:
        super().__init__(url, reason)
        self.url = url
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status

    def __str__(self) -> str:
        return f"{self.url}: {self.reason}"


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A successful fetch (a 2xx with its body, or a 304)."""

    url: str  # after redirects
    status: int
    content: bytes  # decoded (gzip, deflate, brotli); b"" on 304
    etag: str | None
    last_modified: str | None
    content_type: str | None
    headers: httpx.Headers
    elapsed: float  # seconds, for the whole call: redirects, retries and waits included

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class Retry(Exception):
    """One attempt failed in a way that another attempt might not."""

    def __init__(
        self,
        reason: str,
        kind: FetchErrorKind,
        *,
        status: int | None = None,
        delay: float | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status
        self.delay = delay  # the server's Retry-After, when it gave one


class Refused(Exception):
    """One hop must not be fetched (and retrying will not change that)."""

    def __init__(self, reason: str, kind: FetchErrorKind, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind: FetchErrorKind = kind
        self.status = status
