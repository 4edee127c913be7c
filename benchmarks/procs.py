"""Running commands as children and measuring them: wall time, peak memory, RSS."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

from benchmarks.pages import REPO


@dataclass(frozen=True)
class ChildRun:
    argv: list[str]
    returncode: int
    wall_s: float
    peak_rss_mb: float  # this child's own peak (ru_maxrss from wait4)
    peak_tree_rss_mb: float  # the child and its own children together, sampled
    # The same, proportional: each page shared by n processes counts 1/n in each
    # (a fork server's pages shared with its workers count once, as the machine pays them).
    peak_tree_pss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False

    def outcome(self) -> str:
        """``exited 2``, or ``killed by SIGABRT`` for a child ended by a signal."""
        if self.timed_out:
            return "timed out"
        if self.returncode < 0:
            return f"killed by {signal.Signals(-self.returncode).name}"
        return f"exited {self.returncode}"

    def tail(self, lines: int = 5) -> str:
        """The last lines of stderr (else stdout), for error messages."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        return " | ".join(text[-lines:])


def venv_bin(name: str) -> str:
    """A console script of the project's venv, else of the running interpreter's."""
    for folder in (REPO / ".venv" / "bin", Path(sys.executable).parent):
        if (folder / name).exists():
            return str(folder / name)
    return name


def run_child(
    argv: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800.0,
) -> ChildRun:
    """Run ``argv`` to completion; its peak RSS comes from ``os.wait4`` for that child alone.

    ``resource.getrusage(RUSAGE_CHILDREN)`` would give the largest of all
    children waited for so far, so one big child would mask the next.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=env, cwd=cwd
        )
        expired = threading.Event()
        timer = threading.Timer(timeout, _kill, (proc.pid, expired))
        timer.start()
        sampler = TreeSampler(proc.pid)
        sampler.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            sampler.stop()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            argv=argv,
            returncode=proc.returncode,
            wall_s=wall,
            peak_rss_mb=usage.ru_maxrss / 1024,
            peak_tree_rss_mb=sampler.peak_mb,
            peak_tree_pss_mb=sampler.peak_pss_mb,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
            timed_out=expired.is_set(),
        )


def _kill(pid: int, expired: threading.Event) -> None:
    expired.set()
    with suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class TreeSampler(threading.Thread):
    """Samples the summed RSS of a process and its descendants until stopped.

    ``wait4`` gives the child's own exact peak, but nothing of the worker
    processes a child may start; this catches those, at the sampling rate.
    """

    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak_mb = 0.0
        self.peak_pss_mb = 0.0
        self._done = threading.Event()

    def run(self) -> None:
        while not self._done.wait(self.interval):
            rss, pss = tree_memory_mb(self.pid)
            self.peak_mb = max(self.peak_mb, rss)
            self.peak_pss_mb = max(self.peak_pss_mb, pss)

    def stop(self) -> None:
        self._done.set()
        self.join()


def descendants(pid: int) -> list[int]:
    """Every process whose parent chain leads to ``pid``."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        kids = children.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def tree_rss_mb(pid: int) -> float:
    return tree_memory_mb(pid)[0]


def tree_memory_mb(pid: int) -> tuple[float, float]:
    """RSS and PSS of ``pid`` and its descendants, summed."""
    rss = pss = 0.0
    for member in (pid, *descendants(pid)):
        with suppress(OSError, ValueError):
            rss += rss_mb(member)
            pss += pss_mb(member)
    return rss, pss


def pss_mb(pid: int | str = "self") -> float:
    """Proportional set size: resident pages, each divided by the processes sharing it."""
    with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    return 0.0


def proc_status(pid: int | str = "self") -> dict[str, int]:
    """Fields of ``/proc/PID/status`` given in kB (VmRSS, VmHWM, ...) and Threads."""
    found: dict[str, int] = {}
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            parts = value.split()
            if parts and parts[0].isdigit():
                found[key] = int(parts[0])
    return found


def rss_mb(pid: int | str = "self") -> float:
    return proc_status(pid).get("VmRSS", 0) / 1024


def open_fds(pid: int | str = "self") -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
