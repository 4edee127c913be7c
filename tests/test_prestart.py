"""A first check over several new sources starts the workers' fork server before it
fetches anything; other checks leave it alone."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from watcher.cli import check as check_command
from watcher.config import ArticleSettings, Config, Source
from watcher.service import prestart


class FakeStore:
    def __init__(self, read: set[str]) -> None:
        self.read = read

    def source_states(self, wanted: dict[str, str]) -> dict[str, Any]:
        when = datetime(2024, 5, 1, tzinfo=UTC)
        return {name: SimpleNamespace(last_success=when) for name in wanted if name in self.read}


def started(monkeypatch: pytest.MonkeyPatch, sources: int, read: set[str], workers: int) -> bool:
    calls: list[bool] = []
    monkeypatch.setattr(prestart, "start_fork_server", lambda: calls.append(True))
    config = Config(articles=ArticleSettings(workers=workers))
    chosen = [Source(name=f"s{n}", url=f"http://news.test/{n}.xml") for n in range(sources)]
    check_command._start_workers_early(config, FakeStore(read), chosen)  # type: ignore[arg-type]
    return bool(calls)


def test_a_first_pass_over_several_new_sources_starts_the_fork_server(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert started(monkeypatch, prestart.NEW_SOURCES, set(), workers=2)


def test_few_new_sources_one_worker_or_a_warm_state_start_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    few = prestart.NEW_SOURCES - 1
    assert not started(monkeypatch, few, set(), workers=2)
    assert not started(monkeypatch, 10, set(), workers=1)
    read = {f"s{n}" for n in range(10 - few)}
    assert not started(monkeypatch, 10, read, workers=2)
    assert started(monkeypatch, 10, read - {"s0"}, workers=2)
