from __future__ import annotations

from pathlib import Path

import pytest

from watcher.config import ConfigError, load_config, parse_duration

SMALLEST = """\
[state]
path = "watcher.db"
[http]
allow_private_addresses = false
[[sources]]
name = "example"
url = "https://example.org/world/rss.xml"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "watcher.toml"
    path.write_text(text)
    return path


def test_smallest_config_from_the_design_works_as_written(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, SMALLEST))
    assert [s.name for s in config.enabled_sources()] == ["example"]
    # A relative state path is relative to the config file, not the working directory.
    assert config.database_url() == f"sqlite:///{tmp_path / 'watcher.db'}"
    assert config.topic_path().name == "niger-us-withdrawal.toml"
    assert config.sources[0].interval == 900


def test_shipped_example_config_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "config" / "watcher.toml")
    assert config.sources


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (SMALLEST + "colour = 'blue'\n", "colour: unknown key"),
        (
            SMALLEST.replace("https://example.org", "ftp://example.org"),
            "sources[0] ('example').url: not an http(s) URL",
        ),
        (SMALLEST.replace('name = "example"\n', ""), "sources[0].name: required, but missing"),
        (SMALLEST + "[http.extra]\n", "http.extra: unknown key"),
        ('topic = "missing/topic.toml"\n' + SMALLEST, "topic: topic file not found"),
        (SMALLEST.replace("[state]", "[state"), "not valid TOML"),
        (
            SMALLEST + '[[sources]]\nname = "example"\nurl = "https://b.example/"\n',
            "two sources are named 'example'",
        ),
        (
            SMALLEST + '[[sources]]\nname = "b"\nurl = "https://b.example/"\ninterval = "soon"\n',
            "sources[1] ('b').interval: expected a duration",
        ),
    ],
)
def test_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    error = str(caught.value)
    assert "\n" not in error
    assert error.startswith(str(path))
    assert message in error


def test_missing_config_file_says_how_to_give_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found .*--config"):
        load_config(tmp_path / "nope.toml")


def test_config_from_environment_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_CONFIG", str(write(tmp_path, SMALLEST)))
    monkeypatch.chdir(tmp_path)
    assert load_config().path == tmp_path / "watcher.toml"


@pytest.mark.parametrize(
    ("value", "seconds"),
    [(90, 90), ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1.5m", 90)],
)
def test_durations(value: object, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", ["0", -5, "soon", True])
def test_bad_durations(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)
