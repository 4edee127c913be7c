"""A config file that holds a secret and that other users can read gives a warning.

Passwords and webhooks are named by environment variable (password_env,
webhook_env, url_env), so only a URL can carry a secret into the file: a
database URL with a password, or a feed URL with credentials or a token.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from watcher.config import load_config

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")

PLAIN = """\
[state]
path = "watcher.db"
[[sources]]
name = "wire"
url = "https://example.org/rss.xml"
"""


def write(tmp_path: Path, text: str, mode: int) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    path.chmod(mode)
    return path


def warnings_for(caplog: pytest.LogCaptureFixture, path: Path) -> list[str]:
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="watcher.config"):
        load_config(path)
    return [r.getMessage() for r in caplog.records if r.name == "watcher.config"]


@pytest.mark.parametrize(
    ("text", "key"),
    [
        (
            '[state]\nurl = "postgresql://watcher:hunter2@db.internal/watcher"\n',
            "state.url",
        ),
        (
            PLAIN.replace("https://example.org", "https://reader:s3cret@example.org"),
            "sources[0] ('wire').url",
        ),
        (
            PLAIN.replace("rss.xml", "rss.xml?api_key=abc123"),
            "sources[0] ('wire').url",
        ),
        (
            PLAIN.replace("rss.xml", "rss.xml?x-auth-token=abc123"),
            "sources[0] ('wire').url",
        ),
    ],
    ids=["database-password", "feed-credentials", "feed-api-key", "feed-token"],
)
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_secret_in_a_file_others_can_read_warns(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str, key: str, mode: int
) -> None:
    path = write(tmp_path, text, mode)
    [message] = warnings_for(caplog, path)
    assert message.startswith(f"{path}: readable by other users (mode {mode:03o})")
    assert key in message and "chmod 600" in message
    assert "hunter2" not in message and "s3cret" not in message and "abc123" not in message
    assert "\n" not in message


def test_secret_in_a_private_file_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, '[state]\nurl = "postgresql://w:hunter2@db/w"\n', 0o600)
    assert warnings_for(caplog, path) == []


@pytest.mark.parametrize(
    "text",
    [
        PLAIN,
        # Secrets named by environment variable stay out of the file.
        PLAIN
        + '[notify.email]\nhost = "smtp.example.org"\nusername = "watcher"\n'
        + 'password_env = "SMTP_PASSWORD"\nsender = "w@example.org"\nto = ["a@example.org"]\n'
        + '[notify.slack]\nwebhook_env = "SLACK_URL"\n',
        PLAIN.replace("rss.xml", "rss.xml?keyword=niger&page=2"),
        '[state]\nurl = "postgresql://watcher@db.internal/watcher"\n',
    ],
    ids=["plain", "secrets-by-env", "harmless-query", "database-without-password"],
)
def test_readable_file_without_a_secret_is_quiet(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    assert warnings_for(caplog, write(tmp_path, text, 0o644)) == []
