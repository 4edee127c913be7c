"""Build the wheel, install it in a fresh virtual environment, and run the CLI from it.

Each command runs from an empty folder with no config, once from the wheel and
once from the checkout, and the two must say the same: a data file (seeds,
topics, templates, the gazetteer) missing from the wheel, or found in the
checkout instead of the wheel, shows as an error or a difference.

Usage: .venv/bin/python .ci/wheel_smoke.py   (needs uv, from the dev extra)
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CHECKOUT_BIN = Path(sys.executable).parent
SEED = REPO / "seeds" / "000_1b701daddded4476.txt"
CONFIG = """\
[state]
path = "watcher.db"
[http]
allow_private_addresses = false
[[sources]]
name = "example"
url = "https://example.org/world/rss.xml"
"""


class SmokeError(Exception):
    pass


def run(argv: list[str | Path], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    if done.returncode != 0:
        command = " ".join(str(a) for a in argv)
        raise SmokeError(f"{command}: exit {done.returncode}\n{done.stderr.strip()}")
    return done.stdout


def demo_summary(report: dict[str, Any]) -> list[Any]:
    """What the demo found, without times, ports and ids. The changes of a pass are
    compared together: its two sources are written in either order, and which of them
    reports a change first (and which confirms it) depends on that order."""
    return [
        [
            [
                (source["name"], source["status"], sorted(a["title"] for a in source["articles"]))
                for source in one_pass["sources"]
            ],
            sorted(
                {
                    (c["key"], c["old_value"], c["new_value"])
                    for source in one_pass["sources"]
                    for c in source["changes"]
                },
                key=repr,
            ),
        ]
        for one_pass in report["passes"]
    ] + [sorted(Path(p).name for p in report["rendered"])]


def outputs(watcher: Path, work: Path, env: dict[str, str]) -> dict[str, Any]:
    """What each smoke command prints, made comparable across installs."""
    config = ["--config", work / "watcher.toml"]
    evaluation = json.loads(run([watcher, "eval", REPO / "tests" / "factset", "--json"], work, env))
    evaluation.pop("ms_per_article")
    demo_folder = work / f"demo-{watcher.parent.parent.name}"
    demo = json.loads(run([watcher, "demo", "--json", "--output", demo_folder], work, env))
    return {
        "baseline": json.loads(run([watcher, "baseline", "--json", *config], work, env)),
        "extract": json.loads(run([watcher, "extract", SEED, "--json"], work, env)),
        "eval": evaluation,
        "demo": demo_summary(demo),
    }


def check_serve(watcher: Path, work: Path, env: dict[str, str]) -> None:
    """The web view's templates and static files come from the wheel too."""
    server = subprocess.Popen(
        [str(watcher), "serve", "--config", str(work / "watcher.toml"), "--listen", "127.0.0.1:0"],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        line = server.stdout.readline()
        if "serving " not in line:
            error = server.stderr.read() if server.stderr else ""
            raise SmokeError(f"watcher serve: {line.strip() or error.strip()}")
        url = line.split("serving ", 1)[1].split()[0].rstrip("/")
        with urllib.request.urlopen(url + "/", timeout=30) as page:
            story = page.read().decode()
        if "Air Base 201" not in story or "/static/" not in story:
            raise SmokeError("watcher serve: the story page lacks its facts or its stylesheet")
        stylesheet = story.split('href="/static/', 1)[1].split('"', 1)[0]
        with urllib.request.urlopen(f"{url}/static/{stylesheet}", timeout=30) as css:
            if css.status != 200 or not css.read():
                raise SmokeError(f"watcher serve: /static/{stylesheet} is empty")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    if server.returncode != 0:
        raise SmokeError(f"watcher serve: exit {server.returncode} on SIGTERM")


def main() -> int:
    uv = shutil.which("uv", path=str(CHECKOUT_BIN)) or shutil.which("uv")
    if uv is None:
        print("wheel smoke: uv not found (pip install -e '.[dev]')", file=sys.stderr)
        return 2
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    with tempfile.TemporaryDirectory(prefix="watcher-wheel-") as tmp:
        root = Path(tmp)
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("WATCHER_", "PYTHON", "VIRTUAL_ENV"))
        }
        env["HOME"] = str(root / "home")  # no user config to fall back on
        run([uv, "build", "--wheel", "--out-dir", root / "dist", REPO], REPO, env)
        wheel = next((root / "dist").glob("watcher-*.whl"))
        run([uv, "venv", "--quiet", "--python", sys.executable, root / "venv"], root, env)
        installed = root / "venv" / "bin"
        run([uv, "pip", "install", "--quiet", "--python", installed / "python", wheel], root, env)
        work = root / "work"
        work.mkdir()
        (work / "watcher.toml").write_text(CONFIG)

        printed = run([installed / "watcher", "--version"], work, env).strip()
        if printed != f"watcher {version}":
            raise SmokeError(f"watcher --version: {printed!r}, pyproject says {version}")
        where = run(
            [
                installed / "python",
                "-c",
                "import watcher.resources as r, watcher.facts as f;"
                "print(r.resource_path('seeds'), r.resource_path('templates'),"
                " r.resource_path('config'), f.__file__)",
            ],
            work,
            env,
        ).split()
        outside = [p for p in where if not Path(p).is_relative_to(root / "venv")]
        if outside:
            raise SmokeError(f"the wheel reads files outside its install: {outside}")

        from_wheel = outputs(installed / "watcher", work, env)
        from_checkout = outputs(CHECKOUT_BIN / "watcher", work, env)
        differ = [name for name in from_wheel if from_wheel[name] != from_checkout[name]]
        if differ:
            raise SmokeError(f"the wheel and the checkout differ on: {', '.join(differ)}")
        if not from_wheel["baseline"]["facts"] or not from_wheel["extract"]["facts"]:
            raise SmokeError("the wheel found no facts in the seeds")
        check_serve(installed / "watcher", work, env)
    print(f"wheel smoke: {wheel.name} installed; version, baseline, extract, eval, demo, serve ok")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except SmokeError as exc:
        print(f"wheel smoke: {exc}", file=sys.stderr)
        sys.exit(1)
