"""Reading and validating ``watcher.toml``.

Every mistake in a config file becomes one line naming the file, the key and
what is wrong, because the person reading it is usually looking at a
systemd journal, not a traceback.
"""

from __future__ import annotations

import difflib
import logging
import os
import stat
import tomllib
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from watcher.config.model import Config, no_seeds
from watcher.config.paths import ENV_CONFIG, find_config
from watcher.config.values import ConfigError

log = logging.getLogger("watcher.config")


def warn_if_readable(file: Path, config: Config) -> None:
    """Warn when a config holding a secret can be read by other users."""
    secrets = config.inline_secrets()
    if not secrets or os.name != "posix":
        return
    try:
        mode = file.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        log.warning(
            "%s: readable by other users (mode %03o) but holds a secret in %s; "
            "make it private (chmod 600) or move the secret out of the file",
            file,
            stat.S_IMODE(mode),
            ", ".join(secrets),
        )


def _location(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``sources[1].url`` for a pydantic location, naming the source when it can."""
    parts: list[str] = []
    node: Any = data
    for step in loc:
        if isinstance(step, int):
            item = node[step] if isinstance(node, list) and step < len(node) else None
            name = item.get("name") if isinstance(item, dict) else None
            parts[-1] += f"[{step}]" + (f" ({name!r})" if name else "")
        else:
            parts.append(str(step))
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The settings model a pydantic location points into (``("notify", "email")``)."""
    model: type[BaseModel] = Config
    for step in loc:
        if isinstance(step, int):
            continue
        field = model.model_fields.get(str(step))
        if field is None:
            return None
        candidates = [field.annotation, *typing.get_args(field.annotation)]
        candidates += [arg for c in candidates for arg in typing.get_args(c)]
        found = [c for c in candidates if isinstance(c, type) and issubclass(c, BaseModel)]
        if not found:
            return None
        model = found[0]
    return model


def _unknown_key(loc: tuple[Any, ...]) -> str:
    """``unknown key``, with the key meant when it is plain (a secret's ``*_env``, a typo)."""
    key = str(loc[-1])
    model = _model_at(loc[:-1])
    if model is None:
        return "unknown key"
    if f"{key}_env" in model.model_fields:
        return (
            f"unknown key: secrets are not kept in this file; put the {key} in an "
            f"environment variable and give its name as {key}_env"
        )
    close = difflib.get_close_matches(key, list(model.model_fields), n=1)
    return f"unknown key (did you mean {close[0]!r}?)" if close else "unknown key"


def _describe(error: Any) -> str:
    if error["type"] == "extra_forbidden":
        return _unknown_key(error["loc"])
    if error["type"] == "missing":
        return "required, but missing"
    if error["type"] == "bool_type":
        return f"expected true or false, got {error['input']!r}"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def load_config(
    path: str | os.PathLike[str] | None = None, *, check_stories: bool = True
) -> Config:
    """Read and validate a config file, or raise ConfigError with one line.

    ``check_stories`` false leaves the stories' files (topic, seeds) unchecked, for
    `watcher story check`, which reports every problem with them at once."""
    file = find_config(path)
    try:
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"{file}: config file not found (give --config PATH or set ${ENV_CONFIG})"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{file}: not valid TOML: arrays or tables nested too deeply") from None
    config = parse_config(data, file, check_stories=check_stories)
    warn_if_readable(file, config)
    return config


def parse_config(data: dict[str, Any], file: Path, *, check_stories: bool = True) -> Config:
    """Validate ``data``; every mistake in it is one line of the :class:`ConfigError`."""
    try:
        config = Config.model_validate(data).model_copy(update={"path": file})
    except RecursionError:
        raise ConfigError(f"{file}: values nested too deeply") from None
    except ValidationError as exc:
        raise ConfigError(
            "\n".join(
                # A rule across sections (no location) names its keys in its message.
                f"{file}: {where + ': ' if (where := _location(error['loc'], data)) else ''}"
                f"{_describe(error)}"
                for error in exc.errors()
            )
        ) from None
    mistakes = []
    email = config.notify.email
    if email and email.ca_file and not config.resolve(email.ca_file).is_file():
        mistakes.append(f"{file}: notify.email.ca_file: file not found: {email.ca_file}")
    for index, story in enumerate(config.story_settings() if check_stories else []):
        where = f"stories[{index}] ({story.name!r})." if config.stories else ""
        topic = config.story_topic_path(story)
        if not topic.is_file():
            mistakes.append(f"{file}: {where}topic: topic file not found: {topic}")
            continue  # its seeds are the next thing to see to
        seeds = config.story_seeds_path(story)
        if seeds is None:
            mistakes.append(no_seeds(file, story))
        elif not (seeds / "manifest.toml").is_file():
            key = "seeds" if config.stories else "facts.seeds"
            mistakes.append(f"{file}: {where}{key}: no manifest.toml in {seeds}")
    if mistakes:
        raise ConfigError("\n".join(mistakes))
    return config
