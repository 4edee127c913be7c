"""``python -m benchmarks.profiled OUT -- WATCHER-ARGS``: a watcher command, profiled by stage.

The main process is sampled: a thread looks at every thread's stack every
few milliseconds and files the sample under the stage its innermost
recognisable frame belongs to (HTTP, feed parse, extraction, facts,
database, ...), or under ``idle`` when the thread is waiting (selectors,
locks, queues). Sampling, not cProfile: cProfile follows one thread and
slows pure-Python code several times over, which would move the very
balance being measured.

Worker processes time their own stages: the fork server imports
``benchmarks.profile_hook`` beside ``watcher.service.workers`` (its preload
list is extended here), which wraps extraction and fact reading with
timers and writes each worker's totals to OUT.

OUT/main.json holds the main process's samples per thread and stage, its
CPU time and wall time; OUT/worker-PID.json each worker's.
"""

from __future__ import annotations

import json
import multiprocessing.context
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

INTERVAL = 0.005  # seconds between samples

# (stage, path fragments): the first stage whose fragment is in a frame's file name,
# looking from the innermost frame outwards.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "extraction",
        ("/trafilatura/", "/lxml/", "/htmldate/", "/justext/", "/courlan/", "ingest/extract.py"),
    ),
    ("facts", ("/watcher/facts/",)),
    ("feed parse", ("/feedparser/", "/sgmllib", "ingest/feeds.py")),
    ("database", ("/sqlalchemy/", "/sqlite3/", "/watcher/store.py", "/alembic/", "/psycopg")),
    (
        "HTTP",
        ("/httpx/", "/httpcore/", "/h11/", "/h2/", "/anyio/", "/ssl.py", "ingest/fetch.py"),
    ),
    ("worker pool", ("/multiprocessing/", "concurrent/futures/process.py", "service/workers.py")),
    ("alerts", ("/watcher/alerts/", "/jinja2/")),
    ("config", ("/pydantic", "/watcher/config.py", "/tomllib/")),
)
# A thread whose innermost frame is here is waiting, not working: on a socket, a
# lock, a queue or a pipe (a lock taken in C shows its Python caller as innermost,
# so the pool's queues count whole; pickling an article is small beside it).
WAITING = (
    "/selectors.py",
    "/threading.py",
    "/queue.py",
    "/concurrent/futures/",
    "/multiprocessing/",
)
# Innermost frames that are waiting for a lock taken in C.
WAITING_IN = {("service/workers.py", "_read_in_thread")}


def stage_of(frame: FrameType | None) -> str:
    if frame is None:
        return "other"
    code = frame.f_code
    if any(part in code.co_filename for part in WAITING) or any(
        code.co_filename.endswith(path) and code.co_name == name for path, name in WAITING_IN
    ):
        return "idle"
    while frame is not None:
        name = frame.f_code.co_filename
        for stage, parts in STAGES:
            if any(part in name for part in parts):
                return stage
        frame = frame.f_back
    return "other"


class Sampler(threading.Thread):
    def __init__(self) -> None:
        super().__init__(name="bench-sampler", daemon=True)
        self.samples: dict[str, Counter[str]] = {}
        self.taken = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        me = threading.get_ident()
        while not self._stop_event.wait(INTERVAL):
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                thread = _thread_kind(names.get(ident, "?"))
                self.samples.setdefault(thread, Counter())[stage_of(frame)] += 1
            self.taken += 1

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def _thread_kind(name: str) -> str:
    """Threads of a pool grouped under one name (``asyncio_3`` -> ``asyncio``)."""
    base = name.split(" ")[0]
    head, _, tail = base.rpartition("_")
    return head if tail.isdigit() and head else base.rstrip("-0123456789") or base


def _with_hook(original: Any) -> Any:
    def set_forkserver_preload(self: Any, module_names: list[str]) -> None:
        original(self, [*module_names, "benchmarks.profile_hook"])

    return set_forkserver_preload


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    args = argv[argv.index("--") + 1 :]
    out.mkdir(parents=True, exist_ok=True)
    os.environ["WATCHER_BENCH_PROFILE"] = str(out)
    context_class = multiprocessing.context.ForkServerContext
    context_class.set_forkserver_preload = _with_hook(  # type: ignore[method-assign]
        context_class.set_forkserver_preload
    )
    sampler = Sampler()
    started_at = time.time()
    started_wall, started_cpu = time.perf_counter(), time.process_time()
    sampler.start()
    try:
        from watcher.cli.main import main as watcher_main

        status = watcher_main(args)
    finally:
        sampler.stop()
        wall, cpu = time.perf_counter() - started_wall, time.process_time() - started_cpu
        data = {
            "started_at": started_at,
            "wall_s": wall,
            "cpu_s": cpu,
            "interval_s": wall / max(sampler.taken, 1),
            "samples": {thread: dict(c) for thread, c in sampler.samples.items()},
        }
        (out / "main.json").write_text(json.dumps(data), encoding="utf-8")
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
