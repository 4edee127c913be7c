"""The state database when it cannot be written, or is not one: one line that says what to do,
and the commands that only read still work."""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.checks import HANDOVER, publish, write_config
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main

WATCHER = [sys.executable, "-m", "watcher"]
PR_CAPBSET_DROP = 24
# CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: what lets root ignore file modes.
FILE_MODE_CAPABILITIES = (1, 2, 3)


def _heed_file_modes() -> None:
    """In the child: give up the capabilities that let root write where modes say no.

    The tests run as root on CI; dropping these is how root meets a read-only
    directory as any other user would (another user could not run this Python,
    which lives under /root).
    """
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in FILE_MODE_CAPABILITIES:
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def as_reader(*argv: str) -> subprocess.CompletedProcess[str]:
    """watcher ARGV, run as a user who may read the state directory but not write it."""
    return subprocess.run(
        [*WATCHER, *argv],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_heed_file_modes,
    )


@pytest.fixture
def read_only(tmp_path: Path) -> Iterator[list[Path]]:
    """Paths to make read-only (files 0444, folders 0555); writable again afterwards."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        path.chmod(0o755 if path.is_dir() else 0o644)


def lock(paths: list[Path], *targets: Path) -> None:
    for target in targets:
        target.chmod(0o555 if target.is_dir() else 0o444)
        paths.append(target)


@pytest.mark.slow
def test_status_and_facts_read_a_database_they_may_not_write(
    tmp_path: Path,
    server: LoopbackServer,
    capsys: pytest.CaptureFixture[str],
    read_only: list[Path],
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    publish(server, {"handover": HANDOVER})
    config = write_config(state, server, {"wire": "/feed.xml"})
    assert main(["check", "--config", str(config)]) == 1
    capsys.readouterr()
    lock(read_only, *state.iterdir(), state)

    status = as_reader("status", "--config", str(config), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sources"][0]["items_seen"] == 1
    facts = as_reader("facts", "--config", str(config), "bases.air_base_201.status", "--json")
    assert facts.returncode == 0, facts.stderr
    [fact] = json.loads(facts.stdout)["facts"]
    assert (fact["value"], fact["origin"]) == ("handed_over", "observed")
    assert sorted(p.name for p in state.iterdir()) == ["state.db", "watcher.toml"]


@pytest.mark.slow
def test_an_unwritable_directory_is_named_with_what_to_do(
    tmp_path: Path, read_only: list[Path]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    config = state / "watcher.toml"
    config.write_text(
        '[state]\npath = "w.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    lock(read_only, config, state)
    result = as_reader("check", "--config", str(config))
    assert result.returncode == 2
    assert result.stderr == (
        f"watcher: error: {state / 'w.db'}: cannot open state database: unable to open "
        f"database file (cannot create it: {state} is not writable by this user; "
        "set [state] path to a writable place)\n"
    )
    # Reading commands treat a database not made yet as an empty one.
    status = as_reader("status", "--config", str(config), "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["sources"][0]["last_attempt"] is None


@pytest.mark.parametrize("command", ["check", "status", "facts"])
def test_a_file_that_is_not_a_database_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "w.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    (tmp_path / "w.db").write_text("Dear diary, today I watched the news.\n" * 200)
    assert main([command, "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"watcher: error: {tmp_path / 'w.db'}: cannot open state database: file is not a "
        f"database ({tmp_path / 'w.db'} is not an SQLite database: point [state] path at "
        "another file)\n"
    )
