"""Section 5: time and memory of many passes in one process, as the daemon makes them.

The driver (:func:`measure_passes`) starts ``python -m benchmarks.passes`` as a
child, so the figures are watcher's alone and not the benchmark's. The child
sets up what ``watcher run`` sets up once (the prepared stories and
readers, the network loop with its one fetcher) and polls every source in one
pass, over and over, against feeds with nothing new, as the daemon's poll
jobs do; it samples its RSS and open files every few passes, and prints what
it saw as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from benchmarks.pages import REPO
from benchmarks.procs import median, open_fds, proc_status, run_child


def _sample(number: int, seconds: float) -> dict[str, Any]:
    status = proc_status()
    return {
        "pass": number,
        "rss_mb": status.get("VmRSS", 0) / 1024,
        "fds": open_fds(),
        "threads": status.get("Threads", 0),
        "pass_s": seconds,
    }


def run_passes(config_path: Path, passes: int, every: int) -> dict[str, Any]:
    """In this process: ``passes`` daemon passes over every source, a sample every ``every``."""
    from watcher.config import load_config
    from watcher.service.check import Checker
    from watcher.service.network import NetworkLoop
    from watcher.service.startup import prepare
    from watcher.store import open_store

    config = load_config(config_path)
    store = open_store(config.database_url())
    prepared = prepare(config, store)
    network = NetworkLoop(config.http)
    sources = config.enabled_sources()
    samples = [_sample(0, 0.0)]
    times: list[float] = []
    statuses: Counter[str] = Counter()
    try:
        for number in range(1, passes + 1):
            started = time.perf_counter()
            checker = Checker(
                config,
                store,
                stories=prepared.stories,
                readers=prepared.readers,
                keep_text=False,
            )
            report = network.run(checker.run(sources, fetcher=network.fetcher))
            times.append(time.perf_counter() - started)
            statuses.update(s.status for s in report.sources)
            if number == 1 or number % every == 0 or number == passes:
                samples.append(_sample(number, times[-1]))
    finally:
        network.close()
        prepared.close()
        store.close()
    return {"times": times, "samples": samples, "statuses": dict(statuses)}


def slope_per_pass(samples: list[dict[str, Any]], key: str) -> float:
    """Least-squares growth of ``key`` per pass."""
    xs = [float(s["pass"]) for s in samples]
    ys = [float(s[key]) for s in samples]
    if len(xs) < 2:
        return 0.0
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


def summarise(raw: dict[str, Any], sources: int) -> dict[str, Any]:
    """Growth after the first pass, and over the second half of the passes.

    The first pass warms imports, caches and pools up; the allocator keeps
    settling for a while after it. What still grows in the second half is
    what would grow for as long as the daemon runs.
    """
    samples: list[dict[str, Any]] = raw["samples"]
    settled = [s for s in samples if s["pass"] >= 1]
    first, last = settled[0], settled[-1]
    second_half = [s for s in settled if s["pass"] >= last["pass"] / 2]
    times: list[float] = raw["times"]
    typical = median(times[1:] or times)
    return {
        "passes": len(times),
        "sources": sources,
        "first_pass_s": times[0],
        "median_pass_s": typical,
        "sources_per_s": sources / typical,
        "rss_before_mb": samples[0]["rss_mb"],
        "rss_after_first_mb": first["rss_mb"],
        "rss_last_mb": last["rss_mb"],
        "rss_growth_mb": last["rss_mb"] - first["rss_mb"],
        "rss_growth_kb_per_pass": 1024 * slope_per_pass(settled, "rss_mb"),
        "rss_growth_kb_per_pass_second_half": 1024 * slope_per_pass(second_half, "rss_mb"),
        "fds_first": first["fds"],
        "fds_last": last["fds"],
        "threads_last": last["threads"],
        "statuses": raw["statuses"],
        "samples": samples,
    }


def measure_passes(config: Path, sources: int, passes: int, every: int) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "benchmarks.passes", str(config)]
    argv += ["--passes", str(passes), "--every", str(every)]
    run = run_child(argv, env=env, cwd=config.parent)
    if run.returncode != 0:
        raise RuntimeError(f"passes child exited {run.returncode}: {run.tail()}")
    result = summarise(json.loads(run.stdout), sources)
    result["peak_rss_mb"] = run.peak_rss_mb
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("config", type=Path)
    parser.add_argument("--passes", type=int, default=100)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args(argv)
    json.dump(run_passes(args.config, args.passes, args.every), sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
