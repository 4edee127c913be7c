"""`watcher run` as a real process, with its systemd notify socket and status."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.support import WATCHER
from tests.support.checks import write_config
from tests.support.loopback import LoopbackServer


def wait_for(condition: Callable[[], object], timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Daemon:
    def __init__(self, config: Path, notify_socket: str) -> None:
        env = {**os.environ, "NOTIFY_SOCKET": notify_socket, "WATCHDOG_USEC": "2000000"}
        env.pop("JOURNAL_STREAM", None)
        # A file, not a pipe: an unread pipe would fill and block the daemon's logging.
        self.log = config.parent / "daemon.log"
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*WATCHER, "run", "--config", str(config), "--log-format", "text"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, str]:
        self.process.send_signal(sig)
        self.process.wait(timeout=timeout)
        return self.process.returncode, self.log.read_text()


class NotifyListener:
    """Stands in for systemd: collects every datagram sent to the notify socket."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)
        self.messages: list[str] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.2)
        self._running = True
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while self._running:
            try:
                self.messages.append(self._sock.recv(4096).decode())
            except TimeoutError:
                continue

    def close(self) -> None:
        self._running = False
        self._thread.join()
        self._sock.close()


def status(config: Path) -> dict:
    result = subprocess.run(
        [*WATCHER, "status", "--config", str(config), "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def fast_config(tmp_path: Path, server: LoopbackServer) -> Path:
    config = write_config(tmp_path, server, {"wire": "/feed.xml"})
    config.write_text(config.read_text().replace('url = "', 'interval = 1\nurl = "'))
    return config
