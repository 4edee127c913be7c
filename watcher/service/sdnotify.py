"""The systemd notify protocol: one datagram to ``$NOTIFY_SOCKET``.

A few lines instead of a dependency; without systemd every call is a no-op.
"""

from __future__ import annotations

import os
import socket


class Notifier:
    def __init__(self, address: str | None = None) -> None:
        address = address if address is not None else os.environ.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # an abstract socket
            address = "\0" + address[1:]
        self.address = address or None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, **fields: str | int) -> bool:
        """Send ``READY=1``, ``STATUS=...``, ``WATCHDOG=1``... as keyword fields."""
        if not self.address:
            return False
        message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Never block the daemon on a slow reader: a lost ping beats a hang.
                sock.sendto(message.encode(), socket.MSG_DONTWAIT, self.address)
        except OSError:
            return False
        return True


def watchdog_interval() -> float | None:
    """Half the watchdog timeout systemd gave us, in seconds, if it gave one to this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return int(usec) / 1_000_000 / 2
    except ValueError:
        return None
