"""The daemon's network: one event loop in its own thread, and one fetcher on it.

Every poll runs on this loop with this fetcher, whichever scheduler thread
started it, so the per-host limits (requests in flight, the delay between
them) hold across polls: feeds on one host polled at the same moment take
turns, as they do within one ``watcher check``.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

from watcher.config import HttpSettings
from watcher.ingest.fetch import Fetcher, HostTurnTaker

T = TypeVar("T")


class NetworkLoop:
    def __init__(self, settings: HttpSettings, turns: HostTurnTaker | None = None) -> None:
        # Turns at each host shared with the other workers on the database, if any.
        self.turns = turns
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="watcher-network", daemon=True
        )
        self._thread.start()
        self._replaced: list[Fetcher] = []
        self.fetcher = self.run(self._open(settings))

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the loop and wait for its result (from any other thread)."""
        return self.submit(coroutine).result()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> Future[T]:
        """Start ``coroutine`` on the loop; its future (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    async def _open(self, settings: HttpSettings) -> Fetcher:
        fetcher = Fetcher(settings, turns=self.turns)
        await fetcher.__aenter__()
        return fetcher

    def use(self, settings: HttpSettings) -> None:
        """Fetch with new settings from now on. Polls under way keep the old fetcher,
        which is closed with the loop."""
        if settings != self.fetcher.settings:
            self._replaced.append(self.fetcher)
            self.fetcher = self.run(self._open(settings))

    def close(self) -> None:
        for fetcher in (self.fetcher, *self._replaced):
            self.run(fetcher.__aexit__(None, None, None))
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
