"""The values a config file holds (durations, URLs, listen addresses) and how each is
checked, with the base every settings model shares."""

from __future__ import annotations

import ipaddress
import math
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict


class ConfigError(Exception):
    """A config that cannot be used; ``str()`` has one line per mistake."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d)?\s*$")
_UNIT_SECONDS = {None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
# Longer than anything watcher waits for; bounds keep timers and sleeps finite.
MAX_DURATION = 10 * 365 * 86400.0


def parse_duration(value: Any) -> float:
    """Seconds from ``90``, ``"90s"``, ``"15m"``, ``"2h"`` or ``"1d"``."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 300, '15m' or '1h'")
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"expected a duration such as 300, '15m' or '1h', got {value!r}")
        seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise ValueError(f"must be a finite duration, got {value!r}")
    if seconds <= 0:
        raise ValueError("must be more than zero")
    if seconds > MAX_DURATION:
        raise ValueError(f"must be at most 10 years ({MAX_DURATION:g}s)")
    return seconds


Duration = Annotated[float, BeforeValidator(parse_duration)]


def check_http_url(value: str) -> str:
    """``value`` if it is an http(s) URL; a ValueError saying why not."""
    if not re.match(r"^https?://[^/\s]+", value):
        raise ValueError(f"not an http(s) URL: {value!r}")
    return value


class Strict(BaseModel):
    # nan passes every "more than zero" test (nan <= 0 is false) and inf never ends a wait.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


# Polling a feed more often than this gains nothing and gets a client blocked.
MIN_INTERVAL = 60.0
_THIS_MACHINE = ("localhost", "127.", "[::1]")


def on_this_machine(url: str) -> bool:
    """Whether ``url`` names this machine (localhost, 127.x.x.x, ::1) by itself."""
    host = urlsplit(url).netloc.rpartition("@")[2].lower()
    return host.startswith(_THIS_MACHINE)


def parse_optional_duration(value: Any) -> float:
    """A duration, or 0 (``0``, ``"0"``, ``false``) for "never"."""
    if value is False or value == 0 or (isinstance(value, str) and value.strip() == "0"):
        return 0.0
    return parse_duration(value)


DEFAULT_LISTEN = "127.0.0.1:8080"


def parse_listen(value: str) -> tuple[str, int]:
    """``(host, port)`` from ``"127.0.0.1:8080"``, ``"[::1]:8080"`` or ``"localhost:8080"``."""
    host, colon, port = value.strip().rpartition(":")
    if not colon or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT such as {DEFAULT_LISTEN!r}, got {value!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return host, int(port)


def is_loopback(host: str) -> bool:
    """Whether only this machine can reach ``host``: a loopback address, or localhost."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
