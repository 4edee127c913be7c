"""Config files and state databases of watcher, as the benchmarks make and read them."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

# Every benchmark feed is on 127.0.0.1, one host: the politeness delay between
# requests to one host (default 1 s) would measure nothing but itself.
BENCH_HTTP = {
    "allow_private_addresses": True,
    "per_host_delay": 0,
    "per_host_concurrency": 16,
}


@dataclass(frozen=True)
class SourceSpec:
    name: str
    url: str
    interval: str = "15m"
    # The generated feeds' titles name nothing of the story: "relevant" would fetch
    # none of their pages (the mixed-feed section measures what it saves).
    fetch: str = "all"


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))  # a JSON string is a valid TOML basic string


def write_config(
    folder: Path,
    sources: list[SourceSpec],
    *,
    http: dict[str, object] | None = None,
    max_per_source: int = 200,
) -> Path:
    """``folder/watcher.toml`` with its state in ``folder/watcher.db``; returns its path."""
    lines = ["[state]", 'path = "watcher.db"', "", "[http]"]
    lines += [f"{key} = {_value(value)}" for key, value in {**BENCH_HTTP, **(http or {})}.items()]
    lines += ["", "[articles]", f"max_per_source = {max(200, max_per_source)}"]
    for source in sources:
        lines += ["", "[[sources]]"]
        lines += [
            f"{key} = {_value(getattr(source, key))}"
            for key in ("name", "url", "interval", "fetch")
        ]
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def state_counts(database: Path) -> dict[str, int]:
    """Articles stored and items by state, read straight from the SQLite file."""
    if not database.exists():
        return {}
    with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as conn:
        counts = {"articles": conn.execute("select count(*) from articles").fetchone()[0]}
        for state, number in conn.execute("select state, count(*) from items group by state"):
            counts[f"items_{state}"] = number
    return counts


def database_bytes(database: Path) -> int:
    """The database with its write-ahead log and shared-memory files."""
    return sum(
        path.stat().st_size
        for path in (database, Path(f"{database}-wal"), Path(f"{database}-shm"))
        if path.exists()
    )
