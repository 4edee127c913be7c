"""Fetching over HTTP: the client (:mod:`.client`), the guard against private addresses
and the transport that keeps to it (:mod:`.guard`), bounded decompression
(:mod:`.decoding`), and what a fetch gives (:mod:`.results`)."""

from watcher.ingest.fetch.client import Fetcher, HostTurnTaker, parse_retry_after
from watcher.ingest.fetch.guard import address_problem
from watcher.ingest.fetch.results import FetchError, FetchErrorKind, FetchResult

__all__ = [
    "FetchError",
    "FetchErrorKind",
    "FetchResult",
    "Fetcher",
    "HostTurnTaker",
    "address_problem",
    "parse_retry_after",
]
