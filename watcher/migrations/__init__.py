"""The state database's schema versions, as Alembic migrations in ``versions/``.

Alembic rather than hand-written steps: one migration script per version runs
on SQLite and PostgreSQL alike (with its batch mode for what SQLite cannot
ALTER), it keeps the version in a table of its own, its ``revision
--autogenerate`` drafts the next step from the tables, and its
``compare_metadata`` lets the tests prove that a database brought up from any
earlier version is the one a new database gets. Each script writes its
tables out in full (frozen), so later changes to :mod:`watcher.store` never
change what an old step does.

Version N is revision ``000N``. Databases from before Alembic (schemas 1 to 4)
kept their version in the ``meta`` table only; they are stamped with it, then
upgraded. ``meta.schema_version`` is still written, so that an older watcher
opening a newer database refuses it instead of using it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

# Not alembic_version: a PostgreSQL database may be shared with another application.
VERSION_TABLE = "watcher_schema"
HERE = Path(__file__).parent
# Alembic says which plugins it set up and each step it runs; watcher says what it did.
logging.getLogger("alembic").setLevel(logging.WARNING)


class SchemaError(Exception):
    """A database whose schema this watcher cannot use; ``str()`` is one line."""


def _config(**attributes: object) -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    config.attributes.update(attributes)
    return config


def revision_of(version: int) -> str:
    return f"{version:04d}"


def head() -> int:
    """The newest schema version in versions/ (watcher.store.SCHEMA_VERSION)."""
    from alembic.script import ScriptDirectory

    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return int(revision)


def current(conn: Connection) -> int:
    """The database's schema version; 0 for an empty database.

    Alembic's table says it; so does ``meta.schema_version``, which watcher
    wrote alone before it used Alembic, and still writes: the higher one counts.
    """
    tables = set(inspect(conn).get_table_names())
    versions = []
    if VERSION_TABLE in tables:
        found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        if len(found) != 1 or not found[0].isdigit():
            raise SchemaError(f"is of an unknown schema version ({', '.join(found) or 'none'})")
        versions.append(int(found[0]))
    if "meta" in tables:
        value = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).scalar()
        if value is not None and not value.isdigit():
            raise SchemaError(f"is of an unknown schema version ({value})")
        versions.append(int(value or 0))
    if not versions and tables:
        raise SchemaError(
            f"holds other tables ({', '.join(sorted(tables)[:3])}) and no watcher schema: "
            "give watcher a database of its own"
        )
    return max(versions, default=0)


def upgrade(conn: Connection, target: int) -> tuple[int, int]:
    """Bring the database to schema ``target``, the newest, in the caller's transaction;
    returns the versions before and after."""
    before = current(conn)
    if before > target:
        raise SchemaError(
            f"is schema {before}, newer than this watcher understands ({target}); upgrade watcher"
        )
    stamped = inspect(conn).has_table(VERSION_TABLE)
    if before == target and stamped:
        return before, target
    from alembic import command

    if before and not stamped:
        command.stamp(_config(connection=conn), revision_of(before))
    command.upgrade(_config(connection=conn), revision_of(target))
    _write_meta_version(conn, target)
    return before, target


def _write_meta_version(conn: Connection, version: int) -> None:
    updated = conn.execute(
        text("UPDATE meta SET value = :v WHERE key = 'schema_version'"), {"v": str(version)}
    ).rowcount
    if not updated:
        conn.execute(
            text("INSERT INTO meta (key, value) VALUES ('schema_version', :v)"),
            {"v": str(version)},
        )
