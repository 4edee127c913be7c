"""The command line itself: options, pipes, help that matches the README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SEED = Path(__file__).parent.parent / "seeds" / "000_1b701daddded4476.txt"
WATCHER = [sys.executable, "-m", "watcher"]


def closed_reader(*argv: str) -> tuple[int, str]:
    """Run watcher with its stdout a pipe whose reader has already gone (as `| head` does)."""
    process = subprocess.Popen(
        [*WATCHER, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    process.stderr.close()
    return process.wait(timeout=60), err


@pytest.mark.parametrize("json", [False, True])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, json: bool) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "s.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    flag = ["--json"] if json else []
    for argv in (["status", "--config", str(config), *flag], ["extract", str(SEED), *flag]):
        code, err = closed_reader(*argv)
        assert err == "", argv
        assert code == 141, argv
