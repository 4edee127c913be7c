"""Where watcher finds its config file, its shipped topics and its state folder."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from watcher.resources import resource_path

ENV_CONFIG = "WATCHER_CONFIG"
DEFAULT_TOPIC = "niger-us-withdrawal"


def find_config(explicit: str | os.PathLike[str] | None = None) -> Path:
    """``--config``, else ``$WATCHER_CONFIG``, else ./config/watcher.toml, else the user's."""
    if explicit:
        return Path(explicit)
    if env := os.environ.get(ENV_CONFIG):
        return Path(env)
    local = Path("config/watcher.toml")
    if local.exists():
        return local
    return platformdirs.user_config_path("watcher") / "watcher.toml"


def default_state_dir() -> Path:
    # systemd's StateDirectory= sets this; honour it so the unit needs no config.
    if state := os.environ.get("STATE_DIRECTORY"):
        return Path(state.split(":")[0])
    return platformdirs.user_state_path("watcher")


def shipped_topic_path(topic: str) -> Path | None:
    """The file of a shipped topic named ``topic``; None when ``topic`` is a path."""
    if "/" in topic or topic.endswith(".toml"):
        return None
    return resource_path("config") / "topics" / f"{topic}.toml"
