"""The unit files verify with systemd's own checker, and the notify protocol works."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from watcher.service.sdnotify import Notifier, watchdog_interval

UNITS = Path(__file__).parent.parent / "systemd"
UNIT_FILES = ["watcher.service", "watcher-check.service", "watcher-check.timer", "watcher@.service"]
# What systemd-analyze verifies: the template through an instance of it (%i filled in).
VERIFIED = [name.replace("@.", "@1.") for name in UNIT_FILES]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_unit_files_verify_cleanly(tmp_path: Path) -> None:
    # The units name /usr/local/bin/watcher; point them at this installation's.
    installed = Path(sys.executable).parent / "watcher"
    for name in UNIT_FILES:
        text = (UNITS / name).read_text().replace("/usr/local/bin/watcher", str(installed))
        (tmp_path / name).write_text(text)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *(f"./{n}" for n in VERIFIED)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    # verify only warns about unknown keys and bad values; any output is a defect.
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@pytest.mark.parametrize("unit", ["watcher.service", "watcher@.service"])
def test_daemon_unit_is_notify_with_hardening(unit: str) -> None:
    text = (UNITS / unit).read_text()
    for line in [
        "Type=notify",
        "DynamicUser=yes",
        "StateDirectory=watcher",
        "ConfigurationDirectory=watcher",
        "EnvironmentFile=-/etc/watcher/secrets.env",
        "Restart=on-failure",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
    ]:
        assert line in text.splitlines(), line


def test_notify_sends_one_datagram(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(path)
        assert Notifier(path).notify(ready=1, status="3 sources")
        assert sock.recv(1024) == b"READY=1\nSTATUS=3 sources"


def test_without_systemd_notify_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    notifier = Notifier()
    assert not notifier.enabled and not notifier.notify(ready=1)


def test_watchdog_interval_is_half_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHDOG_USEC", "10000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    assert watchdog_interval() == 5.0
    monkeypatch.setenv("WATCHDOG_PID", "1")  # meant for another process
    assert watchdog_interval() is None


def test_worker_template_names_each_worker_and_shares_one_user() -> None:
    lines = (UNITS / "watcher@.service").read_text().splitlines()
    assert (
        "ExecStart=/usr/local/bin/watcher run --config /etc/watcher/watcher.toml --name %H:%i"
        in lines
    )
    assert "User=watcher" in lines and "DynamicUser=yes" in lines
    # The rest is the single daemon's unit: the template must not drift from it.
    single = (UNITS / "watcher.service").read_text().splitlines()
    hardening = [line for line in single if line.startswith(("Protect", "Restrict", "System"))]
    assert hardening and all(line in lines for line in hardening)
