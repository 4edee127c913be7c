"""Editing the sources of a config file in place, comments and layout kept.

Sources live in the config file, not in the database: it is the one place a
person reads and versions, the file the daemon reloads on SIGHUP and the
file outside tools write. ``watcher sources add|remove|enable|disable|import``
therefore edit it with tomlkit, which keeps every comment, blank line and
key order, and check the result exactly as ``load_config`` would before
replacing the file (atomically, with its mode kept): an edit that would
make the config invalid changes nothing.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import tomlkit
from tomlkit.items import AoT, Table

from watcher.config import Config, ConfigError, SourceKind, parse_config


class ConfigEditor:
    """One config file, parsed for editing; :meth:`save` writes it back if still valid."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._document = tomlkit.parse(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except OSError as exc:
            raise ConfigError(f"{path}: cannot read config: {exc.strerror}") from None
        except (tomlkit.exceptions.ParseError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None

    def _sources(self, create: bool = False) -> AoT | None:
        found = self._document.get("sources")
        if found is None:
            if not create:
                return None
            found = tomlkit.aot()
            self._document.append("sources", found)
            return found
        if not isinstance(found, AoT):
            raise ConfigError(
                f"{self.path}: sources: written as an inline array; edit it by hand, or write "
                "each source as a [[sources]] table"
            )
        return found

    def names(self) -> list[str]:
        sources = self._sources()
        return [str(table.get("name", "")) for table in sources] if sources else []

    def urls(self) -> set[str]:
        sources = self._sources()
        return {str(table.get("url", "")) for table in sources} if sources else set()

    def _index(self, name: str) -> int:
        names = self.names()
        if name not in names:
            known = ", ".join(names) or "none"
            raise ConfigError(f"{self.path}: sources: no source named {name!r} (sources: {known})")
        return names.index(name)

    def free_name(self, wanted: str) -> str:
        """``wanted``, or ``wanted-2``, ``wanted-3``... if a source already has it."""
        taken = set(self.names())
        name, number = wanted, 2
        while name in taken:
            name, number = f"{wanted}-{number}", number + 1
        return name

    def add(
        self,
        name: str,
        url: str,
        *,
        kind: SourceKind | None = None,
        interval: str | None = None,
        enabled: bool = True,
    ) -> None:
        if name in self.names():
            raise ConfigError(f"{self.path}: sources: a source is already named {name!r}")
        table: Table = tomlkit.table()
        table["name"] = name
        table["url"] = url
        if kind is not None and kind != SourceKind.AUTO:
            table["kind"] = str(kind)
        if interval is not None:
            table["interval"] = interval
        if not enabled:
            table["enabled"] = False
        sources = self._sources(create=True)
        assert sources is not None
        sources.append(table)

    def remove(self, name: str) -> None:
        sources = self._sources()
        assert sources is not None  # _index found the name
        del sources[self._index(name)]

    def set_enabled(self, name: str, enabled: bool) -> None:
        sources = self._sources()
        index = self._index(name)
        assert sources is not None
        sources[index]["enabled"] = enabled

    def text(self) -> str:
        return tomlkit.dumps(self._document)

    def checked(self) -> Config:
        """The edited config, validated as ``load_config`` validates a file."""
        data: dict[str, Any] = tomllib.loads(self.text())
        return parse_config(data, self.path)

    def save(self) -> Config:
        """Write the file back if the result is a valid config; raise ConfigError if not."""
        config = self.checked()
        text = self.text()
        folder = self.path.parent
        try:
            mode = self.path.stat().st_mode & 0o7777
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{self.path.name}.")
        except OSError as exc:
            raise ConfigError(f"{self.path}: cannot write config: {exc.strerror}") from None
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                file.write(text)
            os.chmod(temporary, mode)
            os.replace(temporary, self.path)
        except OSError as exc:
            Path(temporary).unlink(missing_ok=True)
            raise ConfigError(f"{self.path}: cannot write config: {exc.strerror}") from None
        return config


def name_for(text: str) -> str:
    """A source name from a title or a host: lower case, words joined by hyphens."""
    words = re.findall(r"[^\W_]+", text.lower().removeprefix("www."))
    return "-".join(words)[:60].strip("-") or "source"
