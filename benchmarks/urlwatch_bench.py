"""Section 6: urlwatch over the same feed URLs, cold and warm, for comparison.

urlwatch lives in its own venv (``benchmarks/.urlwatch-venv``), installed on
first use with pip. Its config, job list, hooks and cache go in a temporary
folder, and HOME points there too, so nothing of the user's is read or written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from benchmarks.procs import ChildRun, median, run_child
from benchmarks.server import BenchServer

VENV = Path(__file__).resolve().parent / ".urlwatch-venv"


class Unavailable(Exception):
    """urlwatch cannot be run here; ``str()`` is the reason, in one line."""


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"


def ensure_urlwatch(install: bool = True) -> Path:
    """The urlwatch executable, installing it into :data:`VENV` when needed."""
    exe = VENV / "bin" / "urlwatch"
    if exe.exists():
        return exe
    if not install:
        raise Unavailable(f"not installed in {VENV} (and --no-urlwatch-install given)")
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(VENV)],
        [str(VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "urlwatch"],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Unavailable(f"{' '.join(step[:4])}: {exc}") from None
        if done.returncode != 0:
            raise Unavailable(f"{' '.join(step[:4])} failed: {_last_line(done.stderr)}")
    if not exe.exists():
        raise Unavailable(f"pip installed urlwatch but {exe} is missing")
    return exe


def write_jobs(folder: Path, urls: list[str]) -> Path:
    jobs = folder / "urls.yaml"
    jobs.write_text(
        "---\n".join(f"name: feed-{n}\nurl: {url}\n" for n, url in enumerate(urls)),
        encoding="utf-8",
    )
    return jobs


class Urlwatch:
    """One urlwatch setup: an executable and its files in ``folder``."""

    def __init__(self, exe: Path, folder: Path, urls: list[str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.exe = exe
        self.folder = folder
        self.jobs = write_jobs(folder, urls)
        self.env = {
            **os.environ,
            "HOME": str(folder),
            "XDG_CONFIG_HOME": str(folder / "config"),
            "XDG_CACHE_HOME": str(folder / "cache"),
        }

    def run(self, *extra: str) -> ChildRun:
        files = self.folder
        argv = [str(self.exe), "--urls", str(self.jobs), "--config", str(files / "urlwatch.yaml")]
        argv += ["--hooks", str(files / "hooks.py"), "--cache", str(files / "cache.db"), *extra]
        run = run_child(argv, env=self.env, cwd=files)
        if run.returncode != 0:
            raise Unavailable(f"urlwatch exited {run.returncode}: {run.tail(2)}")
        return run


def measure_urlwatch(
    server: BenchServer, exe: Path, folder: Path, urls: list[str], repeat: int
) -> dict[str, Any]:
    """Cold pass, then ``repeat`` warm passes with 304s and with full bodies."""
    urlwatch = Urlwatch(exe, folder, urls)
    version = urlwatch.run("--version").stdout.strip()
    startup = median([urlwatch.run("--version").wall_s for _ in range(repeat)])
    server.conditional = True
    server.take_counts()
    cold = urlwatch.run()
    result: dict[str, Any] = {
        "version": version,
        "sources": len(urls),
        "startup_s": startup,
        "cold_wall_s": cold.wall_s,
        "cold_peak_rss_mb": cold.peak_rss_mb,
        "cold_served": server.take_counts(),
    }
    for key, conditional in (("warm_304", True), ("warm_200", False)):
        server.conditional = conditional
        urlwatch.run()  # settle: the first pass in a mode may see a change
        server.take_counts()
        walls = [urlwatch.run().wall_s for _ in range(repeat)]
        result[key] = {
            "wall_s": median(walls),
            "wall_s_all": walls,
            "sources_per_s": len(urls) / median(walls),
            "served": server.take_counts(),
        }
    server.conditional = True
    return result
