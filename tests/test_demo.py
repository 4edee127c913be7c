"""The offline demo, end to end, as `make demo` runs it."""

from __future__ import annotations

import json
import subprocess
import sys


def test_demo_runs_three_passes_offline() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "demo", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    passes = json.loads(result.stdout)["passes"]
    assert len(passes) == 3
    first, second, third = passes
    assert first["new_articles"] >= 3
    assert all(s["status"] != "failed" for p in passes for s in p["sources"])
    # The second pass finds only what the grown feed added; the third finds nothing.
    assert 0 < second["new_articles"] < first["new_articles"] + second["new_articles"]
    assert third["new_articles"] == 0
    assert {s["status"] for s in third["sources"]} == {"not_modified"}


def test_demo_text_output_names_each_pass() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "watcher", "demo"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("== ") == 3
    assert "Serving the sample feeds on http://127.0.0.1:" in result.stdout
