"""Soak: the daemon (``watcher run``) for a while against feeds that keep changing.

Every feed publishes a new item every few seconds; the daemon polls them at a
short interval. At each interval this prints the daemon's RSS, open files,
threads, CPU time and the size of its database, and at the end how they
grew. Not a test: it reports and exits 0 unless it could not run at all.

    .venv/bin/python -m benchmarks.soak --minutes 5
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

if not __package__:  # run as a file: make the benchmarks package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.pages import DEFAULT_PAGES, SetupError, load_pages
from benchmarks.procs import open_fds, proc_status, venv_bin
from benchmarks.server import BenchServer, GrowingSite
from benchmarks.watcherconf import SourceSpec, database_bytes, state_counts, write_config

RESULTS = Path(__file__).resolve().parent / "results" / "soak.json"
STOP_WAIT = 30.0  # the daemon lets a running poll finish for up to 20 s


@dataclass(frozen=True)
class Sample:
    elapsed_s: float
    rss_mb: float
    peak_rss_mb: float
    fds: int
    threads: int
    cpu_s: float
    db_kb: float
    articles: int
    published: int


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/soak.py",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--minutes", type=float, default=5.0, help="how long to run (default 5)")
    add("--pages", type=Path, default=DEFAULT_PAGES, help="folder of pages with MANIFEST.tsv")
    add("--feeds", type=int, default=5, help="feeds (default 5)")
    add("--window", type=int, default=20, help="items a feed shows (default 20)")
    add("--new-every", type=float, default=3.0, help="seconds between new items per feed")
    add("--interval", default="10s", help="the sources' poll interval (default 10s)")
    add("--report-every", type=float, default=15.0, help="seconds between samples (default 15)")
    add("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    add("--keep", action="store_true", help="keep the state folder and the daemon's log")
    return parser.parse_args(argv)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid``, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sample(pid: int, started: float, database: Path, site: GrowingSite) -> Sample:
    status = proc_status(pid)
    return Sample(
        elapsed_s=time.monotonic() - started,
        rss_mb=status.get("VmRSS", 0) / 1024,
        peak_rss_mb=status.get("VmHWM", 0) / 1024,
        fds=open_fds(pid),
        threads=status.get("Threads", 0),
        cpu_s=cpu_seconds(pid),
        db_kb=database_bytes(database) / 1024,
        articles=state_counts(database).get("articles", 0),
        published=site.feeds * site.published_count(),
    )


COLUMNS = ("elapsed_s", "rss_mb", "peak_rss_mb", "fds", "threads", "cpu_s", "db_kb", "articles")


def print_sample(row: Sample, out: IO[str]) -> None:
    values = asdict(row)
    cells = [
        f"{values[c]:>11}" if isinstance(values[c], int) else f"{values[c]:>11.1f}" for c in COLUMNS
    ]
    out.write("  ".join(cells) + f"  {row.published:>9}\n")
    out.flush()


def print_header(pid: int, base: str, args: argparse.Namespace, out: IO[str]) -> None:
    out.write(
        f"soak: watcher run (pid {pid}), {args.feeds} feeds on {base}, a new item per feed "
        f"every {args.new_every:g}s, polled every {args.interval}, for {args.minutes:g} min\n"
    )
    out.write("  ".join(f"{c:>11}" for c in COLUMNS) + f"  {'published':>9}\n")


def summarise(samples: list[Sample], exit_status: int | None, log: str) -> dict[str, Any]:
    first, last = samples[0], samples[-1]
    minutes = max(last.elapsed_s - first.elapsed_s, 1e-9) / 60
    return {
        "samples": [asdict(s) for s in samples],
        "rss_first_mb": first.rss_mb,
        "rss_last_mb": last.rss_mb,
        "rss_max_mb": max(s.rss_mb for s in samples),
        "rss_growth_mb_per_min": (last.rss_mb - first.rss_mb) / minutes,
        "fds_first": first.fds,
        "fds_last": last.fds,
        "fds_max": max(s.fds for s in samples),
        "threads_last": last.threads,
        "cpu_s": last.cpu_s,
        "db_kb_last": last.db_kb,
        "articles": last.articles,
        "published": last.published,
        "exit_status": exit_status,
        "log_errors": sum(" ERROR " in line or "Traceback" in line for line in log.splitlines()),
        "log_warnings": sum(" WARNING " in line for line in log.splitlines()),
    }


def stop(daemon: subprocess.Popen[bytes]) -> int | None:
    """SIGTERM, then SIGKILL if it has not stopped after :data:`STOP_WAIT` seconds."""
    if daemon.poll() is not None:
        return daemon.returncode
    daemon.send_signal(signal.SIGTERM)
    try:
        return daemon.wait(STOP_WAIT)
    except subprocess.TimeoutExpired:
        daemon.kill()
        daemon.wait()
        return None


def soak(args: argparse.Namespace, folder: Path, out: IO[str]) -> dict[str, Any]:
    pages = load_pages(args.pages)
    with BenchServer() as server:
        site = GrowingSite("soak", args.feeds, args.window, pages, args.new_every)
        server.add(site)
        sources = [
            SourceSpec(f"soak-{f}", server.feed_url("soak", f), args.interval)
            for f in range(args.feeds)
        ]
        config = write_config(folder, sources)
        log_path = folder / "watcher.log"
        with log_path.open("wb") as log:
            daemon = subprocess.Popen(
                [venv_bin("watcher"), "run", "--config", str(config)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=folder,
            )
            print_header(daemon.pid, server.base, args, out)
            samples = watch(daemon, folder / "watcher.db", site, args, out)
            exit_status = stop(daemon)
        text = log_path.read_text(encoding="utf-8", errors="replace")
    if not samples:
        raise SetupError(f"the daemon exited at once ({daemon.returncode}): {text[-300:]}")
    result = summarise(samples, exit_status, text)
    result["log"] = str(log_path) if args.keep else None
    return result


def watch(
    daemon: subprocess.Popen[bytes],
    database: Path,
    site: GrowingSite,
    args: argparse.Namespace,
    out: IO[str],
) -> list[Sample]:
    started = time.monotonic()
    deadline = started + 60 * args.minutes
    samples: list[Sample] = []
    # The first sample comes one interval in: by then the daemon has started and polled.
    while not _sleep_until(daemon, min(deadline, started + args.report_every * (len(samples) + 1))):
        samples.append(sample(daemon.pid, started, database, site))
        print_sample(samples[-1], out)
        if time.monotonic() >= deadline:
            break
    if daemon.poll() is not None:
        out.write(f"soak: the daemon exited early with status {daemon.returncode}\n")
    return samples


def _sleep_until(daemon: subprocess.Popen[bytes], moment: float) -> bool:
    """Wait until ``moment``; True if the daemon exited meanwhile."""
    while time.monotonic() < moment:
        if daemon.poll() is not None:
            return True
        time.sleep(min(0.5, max(0.0, moment - time.monotonic())))
    return daemon.poll() is not None


def print_summary(result: dict[str, Any], out: IO[str]) -> None:
    out.write(
        f"\nRSS {result['rss_first_mb']:.1f} -> {result['rss_last_mb']:.1f} MB "
        f"(max {result['rss_max_mb']:.1f}, {result['rss_growth_mb_per_min']:+.2f} MB/min); "
        f"open files {result['fds_first']} -> {result['fds_last']} (max {result['fds_max']}); "
        f"database {result['db_kb_last']:.0f} kB; {result['articles']} articles stored of "
        f"{result['published']} published; CPU {result['cpu_s']:.1f} s; "
        f"exit status {result['exit_status']}; log: {result['log_errors']} errors, "
        f"{result['log_warnings']} warnings\n"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="watcher-soak-"))
    try:
        result = soak(args, folder, sys.stdout)
    except SetupError as exc:
        print(f"soak: {exc}", file=sys.stderr)
        return 2
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print_summary(result, sys.stdout)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
