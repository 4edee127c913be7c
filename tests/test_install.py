"""The README's commands to install watcher for systemd: they agree with the unit files,
and (on CI, where WATCHER_TEST_INSTALL=1) they work, and the units verify against the result."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent
UNITS = ROOT / "systemd"
SERVICES = ["watcher.service", "watcher@.service", "watcher-check.service"]


def install_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"<!-- install:[^>]*-->\n```sh\n(.*?)```\n<!-- end install -->", readme, re.S)
    assert block, "README.md has no install block"
    return [line for line in block.group(1).splitlines() if line.strip()]


def exec_start(unit: str) -> str:
    [line] = [x for x in (UNITS / unit).read_text().splitlines() if x.startswith("ExecStart=")]
    return line.removeprefix("ExecStart=").split()[0]


def test_the_install_commands_put_watcher_where_the_units_run_it() -> None:
    commands = install_commands()
    [venv] = [c.split()[-1] for c in commands if " -m venv " in c]
    # The unit's throw-away user cannot see /root or /home (ProtectHome=yes).
    assert not venv.startswith(("/root", "/home", "~"))
    [link] = [c for c in commands if c.startswith("sudo ln -sf ")]
    source, target = link.split()[-2:]
    assert source == f"{venv}/bin/watcher"
    for unit in SERVICES:
        assert exec_start(unit) == target, unit


@pytest.mark.skipif(
    os.environ.get("WATCHER_TEST_INSTALL") != "1",
    reason="installs watcher from the package registry; CI sets WATCHER_TEST_INSTALL=1",
)
def test_the_install_commands_work_and_the_units_verify_against_the_result(
    tmp_path: Path,
) -> None:
    # The README's commands, in a sandbox: the same paths under tmp_path, no sudo.
    sandbox = tmp_path / "root"
    (sandbox / "usr/local/bin").mkdir(parents=True)
    script = "\n".join(install_commands())
    script = script.replace("sudo ", "").replace("/opt/", f"{sandbox}/opt/")
    script = script.replace("/usr/local/bin", f"{sandbox}/usr/local/bin")
    python_dir = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{python_dir}:{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    installed = sandbox / "usr/local/bin/watcher"
    assert done.stdout.strip().splitlines()[-1].startswith("watcher ")
    assert installed.is_symlink() and not str(installed.resolve()).startswith(str(ROOT))

    # The installed copy finds its own topic and seeds, with no checkout beside it.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    baseline = subprocess.run(
        [str(installed), "baseline", "--json"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert baseline.returncode == 0, baseline.stderr
    assert json.loads(baseline.stdout)["topic"] == "niger-us-withdrawal"

    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze not installed")
    units = tmp_path / "units"
    units.mkdir()
    for unit in [*SERVICES, "watcher-check.timer"]:
        text = (UNITS / unit).read_text().replace("/usr/local/bin/watcher", str(installed))
        (units / unit).write_text(text)
    verify = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(f"./{u}" for u in sorted(os.listdir(units)))],
        cwd=units,
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and not (verify.stdout + verify.stderr).strip(), verify.stderr
