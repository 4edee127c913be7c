"""Sources polled per second by 1, 2 and 3 `watcher run` workers sharing one PostgreSQL
database, against one worker on SQLite, in one run.

    .venv/bin/python -m benchmarks.workers_bench [--sources 400] [--seconds 20]

Every source is on a loopback server and due every second, so the workers are always
behind: what they poll per second is what they can poll. Each poll gets a feed with
one item it has not seen (without an article), so it parses, compares and writes,
as a poll that finds something does. The rate is read from the polls recorded in the
database (the metrics' running totals) over a window after a warm-up. PostgreSQL is
a throw-away server started for the run (initdb and pg_ctl from the Debian package,
as the tests do). Figures, not a pass or fail.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from sqlalchemy import create_engine, text

# The throw-away PostgreSQL server the tests use (run from the repository: python -m).
from tests.support.pgcluster import Cluster, Unavailable

REPO = Path(__file__).resolve().parent.parent


class FeedServer:
    """Feed ``/f/N.xml``: five items, the newest one new on every request."""

    def __init__(self) -> None:
        self.requests = 0
        lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with lock:
                    owner.requests += 1
                    serial = owner.requests
                number = self.path.removeprefix("/f/").removesuffix(".xml")
                items = "".join(
                    f"<item><title>Note {number}-{serial - k}</title>"
                    f'<guid isPermaLink="false">{number}-{serial - k}</guid></item>'
                    for k in range(5)
                )
                body = (
                    '<?xml version="1.0"?><rss version="2.0"><channel>'
                    f"<title>Feed {number}</title>{items}</channel></rss>"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    def url(self, number: int) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/f/{number}.xml"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def write_config(folder: Path, state: str, server: FeedServer, sources: int) -> Path:
    lines = [
        f"[state]\n{state}",
        "[daemon]\npolls_at_once = 16",
        "[http]\nallow_private_addresses = true\nper_host_delay = 0",
        "per_host_concurrency = 64\nconcurrency = 64\nretries = 0",
        "[articles]\nworkers = 1",
    ]
    for number in range(sources):
        lines.append(
            f'[[sources]]\nname = "s{number:04}"\nurl = "{server.url(number)}"\ninterval = 1'
        )
    config = folder / "watcher.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def polls_recorded(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            total = conn.execute(
                text("SELECT coalesce(sum(value), 0) FROM counters WHERE name = 'watcher_polls'")
            ).scalar_one()
    finally:
        engine.dispose()
    return int(total)


def cpu_ticks() -> tuple[int, int]:
    """The machine's busy and total CPU time so far (Linux /proc/stat), in ticks."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


@dataclass
class Result:
    backend: str
    workers: int
    polls_per_second: float
    polls: int
    seconds: float
    # The share of the machine's CPU time in use while measuring (all processes: the
    # workers, the database server, the feed server); CPU ms/poll divides it among polls.
    busy: float


def measure(
    backend: str, workers: int, url: str, folder: Path, server: FeedServer, args: argparse.Namespace
) -> Result:
    folder.mkdir()
    state = f'url = "{url}"'
    config = write_config(folder, state, server, args.sources)
    python = str(REPO / ".venv" / "bin" / "python")
    if not Path(python).exists():
        python = sys.executable
    processes = []
    for number in range(workers):
        log = (folder / f"w{number}.log").open("w")
        processes.append(
            subprocess.Popen(
                [python, "-m", "watcher", "run", "--config", str(config), "--name", f"w{number}"],
                stdout=subprocess.DEVNULL,
                stderr=log,
                cwd=REPO,
            )
        )
    try:
        time.sleep(args.warmup)
        before, started, cpu_before = polls_recorded(url), time.monotonic(), cpu_ticks()
        time.sleep(args.seconds)
        after, ended, cpu_after = polls_recorded(url), time.monotonic(), cpu_ticks()
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
    seconds = ended - started
    polls = after - before
    busy = (cpu_after[0] - cpu_before[0]) / max(1, cpu_after[1] - cpu_before[1])
    return Result(backend, workers, polls / seconds, polls, seconds, busy)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=400, help="sources, each due every second")
    parser.add_argument("--seconds", type=float, default=20.0, help="measured window per run")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before measuring")
    parser.add_argument("--json", metavar="PATH", help="also write the figures here")
    args = parser.parse_args(argv)
    try:
        cluster = Cluster.start_new()
    except Unavailable as exc:
        print(f"workers: PostgreSQL not available ({exc})", file=sys.stderr)
        return 1
    server = FeedServer()
    results: list[Result] = []
    try:
        with tempfile.TemporaryDirectory(prefix="watcher-workers-bench-") as tmp:
            runs = [("sqlite", 1), ("postgresql", 1), ("postgresql", 2), ("postgresql", 3)]
            for backend, workers in runs:
                folder = Path(tmp) / f"{backend}-{workers}"
                if backend == "sqlite":
                    url = f"sqlite:///{folder}/state.db"
                else:
                    url = cluster.url(cluster.create_database())
                print(f"{backend}, {workers} worker(s)...", file=sys.stderr)
                results.append(measure(backend, workers, url, folder, server, args))
    finally:
        server.stop()
        cluster.destroy()
    cores = os.cpu_count() or 1
    sqlite = results[0].polls_per_second
    single = results[1].polls_per_second
    print(
        f"sources polled per second ({args.sources} sources due every second, "
        f"{args.seconds:g} s measured after {args.warmup:g} s, {os.cpu_count()} cores)"
    )
    print(
        f"{'backend':<12}{'workers':>8}{'polls/s':>10}{'x 1 PG worker':>15}{'x SQLite':>10}"
        f"{'CPU busy':>10}{'CPU ms/poll':>13}"
    )
    for result in results:
        print(
            f"{result.backend:<12}{result.workers:>8}{result.polls_per_second:>10.1f}"
            f"{result.polls_per_second / single:>15.2f}{result.polls_per_second / sqlite:>10.2f}"
            f"{result.busy:>10.0%}"
            f"{result.busy * cores * 1000 / max(result.polls_per_second, 1e-9):>13.1f}"
        )
    if args.json:
        Path(args.json).write_text(json.dumps([r.__dict__ for r in results], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
