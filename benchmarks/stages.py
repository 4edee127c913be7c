"""Sections ``profile`` and ``imports``: where a cold pass's time goes, stage by
stage, and what a warm check spends importing (``python -X importtime``)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.check_bench import BenchError, Workspace, make_workspace
from benchmarks.pages import REPO, Page
from benchmarks.procs import median, run_child
from benchmarks.server import BenchServer, StaticSite
from benchmarks.watcherconf import state_counts
from watcher.service.workers import ARTICLES_PER_WORKER


def _python() -> str:
    venv = REPO / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{path}" if path else str(REPO)}


def profile_pass(
    server: BenchServer, folder: Path, pages: list[Page], feeds: int, items: int
) -> dict[str, Any]:
    """A cold pass of ``feeds`` x ``items`` articles under ``benchmarks.profiled``."""
    site = StaticSite(f"profile{feeds * items}", feeds, items, pages)
    workspace = make_workspace(server, folder, site, max_per_source=items)
    server.conditional = True
    out = folder / "profile"
    argv = [_python(), "-m", "benchmarks.profiled", str(out), "--"]
    run = run_child(
        [*argv, "check", "--config", str(workspace.config)], cwd=workspace.folder, env=_env()
    )
    if run.returncode not in (0, 1):
        raise BenchError(f"profiled check exited {run.returncode}: {run.tail()}")
    main = json.loads((out / "main.json").read_text(encoding="utf-8"))
    workers = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("worker-*.json"))]
    counts = state_counts(workspace.database)
    return summarise(main, workers, feeds * items, counts.get("articles", 0), run.wall_s)


def summarise(
    main: dict[str, Any],
    workers: list[dict[str, Any]],
    articles: int,
    stored: int,
    child_wall_s: float,
) -> dict[str, Any]:
    step = main["interval_s"]
    threads: dict[str, dict[str, float]] = {
        thread: {stage: n * step for stage, n in stages.items()}
        for thread, stages in main["samples"].items()
    }
    # Work of the main process's threads together (idle left out), by stage.
    busy: dict[str, float] = defaultdict(float)
    for stages in threads.values():
        for stage, seconds in stages.items():
            if stage != "idle":
                busy[stage] += seconds
    pass_end = main["started_at"] + main["wall_s"]
    worker_rows = []
    for w in workers:
        # A worker replaced after its share of articles lived until its last one (the
        # first workers' share includes the one task that shows they have started).
        if w.get("tasks", 0) >= ARTICLES_PER_WORKER - 1:
            end = w.get("last_task_done_at", pass_end)
        else:
            end = pass_end
        span = end - w.get("first_task_at", end)
        worker_rows.append(
            {
                "tasks": int(w.get("tasks", 0)),
                "extraction_s": w.get("extraction", 0.0),
                "facts_s": w.get("facts", 0.0),
                "extraction_cpu_s": w.get("extraction_cpu", 0.0),
                "facts_cpu_s": w.get("facts_cpu", 0.0),
                "task_s": w.get("task_s", 0.0),
                "cpu_s": w.get("cpu_s", 0.0),
                "span_s": span,
                "busy_share": w.get("task_s", 0.0) / span if span > 0 else 0.0,
            }
        )
    in_workers = sum(w["tasks"] for w in worker_rows)
    firsts = [w["first_task_at"] for w in workers if "first_task_at" in w]
    return {
        "articles": articles,
        "articles_stored": stored,
        "wall_s": main["wall_s"],
        "child_wall_s": child_wall_s,
        "main_cpu_s": main["cpu_s"],
        "sample_interval_s": step,
        "main_threads": threads,
        "main_busy_s": dict(sorted(busy.items(), key=lambda kv: -kv[1])),
        "workers": worker_rows,
        "articles_in_workers": in_workers,
        "articles_in_main": articles - in_workers,
        # From the start of the command to the first article a worker read.
        "first_worker_article_s": min(firsts) - main["started_at"] if firsts else None,
    }


# -- imports --------------------------------------------------------------------------


def importtime(workspace: Workspace, repeat: int = 3) -> dict[str, Any]:
    """``python -X importtime -m watcher check`` on a primed warm state, ``repeat`` times:
    the median self time of each top-level package's modules, and the total."""
    per_run: list[dict[str, float]] = []
    walls = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as scratch:
            run = run_child(
                [
                    _python(),
                    "-X",
                    "importtime",
                    "-m",
                    "watcher",
                    "check",
                    "--config",
                    str(workspace.config),
                ],
                cwd=workspace.folder,
                env={**_env(), "TMPDIR": scratch},
            )
        if run.returncode != 0:
            raise BenchError(f"watcher check exited {run.returncode}: {run.tail()}")
        per_run.append(_packages(run.stderr))
        walls.append(run.wall_s)
    names = {name for run in per_run for name in run}
    packages = {name: median([run.get(name, 0.0) for run in per_run]) for name in names}
    ordered = dict(sorted(packages.items(), key=lambda kv: -kv[1]))
    return {
        "wall_s": median(walls),
        "import_s": median([sum(run.values()) for run in per_run]),
        "packages_s": ordered,
    }


def _packages(stderr: str) -> dict[str, float]:
    """Self import time per top-level package, in seconds, from -X importtime's lines
    (``import time: self [us] | cumulative | module``)."""
    totals: dict[str, float] = defaultdict(float)
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        try:
            own, _, module = line[len("import time:") :].split("|", 2)
            name = module.strip().split(".")[0]
            totals[_group(name)] += int(own) / 1e6
        except ValueError:
            continue
    return dict(totals)


def _group(name: str) -> str:
    """Stdlib modules as one group; private C helpers with their package."""
    name = name.lstrip("_") or name
    if name in sys.stdlib_module_names or name.lstrip("_") in sys.stdlib_module_names:
        return "(stdlib)"
    return name
