from __future__ import annotations

from pathlib import Path

import pytest

from watcher.cli.main import main
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


def test_every_mistake_is_reported_one_per_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        SMALLEST.replace("allow_private_addresses = false", "allow_private_addresses = 'yes'")
        + 'enabled = 1\n[notify.email]\nhost = "mail.example"\nsender = "w@example.org"\n'
        'to = ["desk@example.org"]\npassword = "hunter2"\n'
        '[notify.slack]\nwebhok_env = "HOOK"\n',
    )
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert lines == [
        f"{path}: http.allow_private_addresses: expected true or false, got 'yes'",
        f"{path}: notify.email.password: unknown key: secrets are not kept in this file; "
        "put the password in an environment variable and give its name as password_env",
        f"{path}: notify.slack.webhok_env: unknown key (did you mean 'webhook_env'?)",
        f"{path}: sources[0] ('example').enabled: expected true or false, got 1",
    ]
    assert main(["check", "--config", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"watcher: error: {line}" for line in lines]


@pytest.mark.parametrize("word", ["'yes'", "'no'", "1", "0", "'true'"])
def test_booleans_are_true_or_false_only(tmp_path: Path, word: str) -> None:
    path = write(tmp_path, SMALLEST.replace("= false", f"= {word}"))
    with pytest.raises(ConfigError, match="allow_private_addresses: expected true or false"):
        load_config(path)


def test_interval_under_a_minute_is_refused_but_for_this_machine(tmp_path: Path) -> None:
    often = SMALLEST + 'interval = "1s"\n'
    with pytest.raises(ConfigError) as error:
        load_config(write(tmp_path, often))
    assert str(error.value) == (
        f"{tmp_path / 'watcher.toml'}: sources[0] ('example'): interval: 1s is too often; "
        'poll a feed at most once a minute (interval = "1m" or more)'
    )
    assert load_config(write(tmp_path, SMALLEST + 'interval = "1m"\n')).sources[0].interval == 60
    for local in ("http://127.0.0.1:8080/feed.xml", "http://localhost/f", "http://[::1]:81/f"):
        text = often.replace("https://example.org/world/rss.xml", local)
        assert load_config(write(tmp_path, text)).sources[0].interval == 1
