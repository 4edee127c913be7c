"""The test servers' own promises, which other tests rely on."""

from __future__ import annotations

import socket
import struct
import time
from urllib.parse import urlsplit

import pytest

from tests.support.alerting import Webhook
from tests.support.loopback import LoopbackServer


def hang_up_abruptly(port: int | None) -> None:
    """Connect, then reset the connection (SO_LINGER 0) without sending a request."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


@pytest.mark.slow
def test_a_client_hanging_up_leaves_no_traceback(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Tests assert that watcher printed no traceback; the servers must print none either
    when a client (watcher cutting a fetch short) resets its connection."""
    webhook = Webhook()
    try:
        for port in (server.port, urlsplit(webhook.base_url).port):
            for _ in range(5):
                hang_up_abruptly(port)
        time.sleep(0.5)  # the servers' threads read the resets
    finally:
        webhook.stop()
    assert "Traceback" not in capsys.readouterr().err
