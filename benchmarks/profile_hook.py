"""Imported by the fork server of a profiled pass (``benchmarks.profiled``): every
worker times its extraction and fact reading and writes its totals to
$WATCHER_BENCH_PROFILE/worker-PID.json after each article."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from watcher.service import workers

_OUT = os.environ.get("WATCHER_BENCH_PROFILE")
_totals: dict[str, float] = {}


def _timed(stage: str, function: Any) -> Any:
    def timed(*args: Any, **kwargs: Any) -> Any:
        started, cpu = time.perf_counter(), time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            _totals[stage] = _totals.get(stage, 0.0) + time.perf_counter() - started
            _totals[f"{stage}_cpu"] = _totals.get(f"{stage}_cpu", 0.0) + time.process_time() - cpu

    return timed


def _task(function: Any) -> Any:
    def task(*args: Any, **kwargs: Any) -> Any:
        now = time.time()
        _totals.setdefault("first_task_at", now)
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            _totals["task_s"] = _totals.get("task_s", 0.0) + time.perf_counter() - started
            _totals["tasks"] = _totals.get("tasks", 0) + 1
            _totals["last_task_done_at"] = time.time()
            _totals["cpu_s"] = time.process_time()
            if _OUT:
                path = Path(_OUT) / f"worker-{os.getpid()}.json"
                path.write_text(json.dumps(_totals), encoding="utf-8")

    return task


if _OUT:
    workers.extract_html = _timed("extraction", workers.extract_html)  # type: ignore[assignment]
    workers.extract_facts = _timed("facts", workers.extract_facts)  # type: ignore[assignment]
    workers._read_in_worker = _task(workers._read_in_worker)  # type: ignore[assignment]
