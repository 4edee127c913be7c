"""The command line itself: options, pipes, help that matches the README."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.checks import ARTICLE
from tests.support.loopback import LoopbackServer
from watcher.cli.main import main
from watcher.cli.parser import build_parser

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


@pytest.mark.slow
@pytest.mark.parametrize("as_json", [False, True])
def test_a_closed_pipe_ends_quietly(tmp_path: Path, as_json: bool) -> None:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "s.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    flag = ["--json"] if as_json else []
    for argv in (["status", "--config", str(config), *flag], ["extract", str(SEED), *flag]):
        code, err = closed_reader(*argv)
        assert err == "", argv
        assert code == 141, argv


def minimal_config(tmp_path: Path) -> Path:
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "s.db"\n[[sources]]\nname = "a"\nurl = "https://a.example/f"\n'
    )
    return config


@pytest.mark.parametrize(
    "argv",
    [
        ["--config", "{config}", "status", "--json"],
        ["status", "--config", "{config}", "--json"],
        ["-v", "--config", "{config}", "status", "--json"],
        ["--config", "/nowhere.toml", "status", "--config", "{config}", "--json"],
    ],
)
def test_global_options_go_before_or_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    config = minimal_config(tmp_path)
    assert main([a.replace("{config}", str(config)) for a in argv]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["database"] == f"sqlite:///{tmp_path / 's.db'}"


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["run", "--json", "--config", "{config}"], "unrecognized arguments: --json"),
        (["demo", "--config", "{config}"], "unrecognized arguments: --config"),
        (["--config", "{config}", "demo"], "demo: --config: the demo serves its own"),
    ],
)
def test_options_a_command_would_ignore_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], complaint: str
) -> None:
    config = minimal_config(tmp_path)
    with pytest.raises(SystemExit) as usage:
        main([a.replace("{config}", str(config)) for a in argv])
    assert usage.value.code == 2
    assert complaint in capsys.readouterr().err


def test_extract_url_needs_no_config(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config/watcher.toml here
    monkeypatch.setenv("WATCHER_CONFIG", str(tmp_path / "absent.toml"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    url = server.route("/a/story.html", ARTICLE.format(title="Story one", day=1))
    assert main(["extract", url, "--allow-private-addresses", "--json"]) == 0
    article = json.loads(capsys.readouterr().out)["article"]
    assert article["title"] == "Story one" and "pack equipment" in article["text"]
    # Without the flag the defaults apply, and they refuse loopback: no config is asked for.
    assert main(["extract", url]) == 2
    assert "allow_private_addresses" in capsys.readouterr().err


@pytest.mark.slow
def test_run_says_it_needs_linux_where_sigtimedwait_is_missing(tmp_path: Path) -> None:
    # macOS has no sigtimedwait; a process without it stands in for one.
    config = minimal_config(tmp_path)
    script = (
        "import signal, sys; del signal.sigtimedwait; from watcher.cli.main import main; "
        f"sys.exit(main(['run', '--config', {str(config)!r}]))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "needs Linux" in result.stderr and "watcher check" in result.stderr
    assert result.stderr.count("\n") == 1


def readme_commands() -> set[str]:
    readme = (Path(__file__).parent.parent / "README.md").read_text()
    table = readme.split("## Commands", 1)[1].split("\n\n`watcher check` is polite")[0]
    return set(re.findall(r"^\| `watcher (\w+)", table, re.MULTILINE))


def test_every_command_is_in_the_readme_table() -> None:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == readme_commands()
