"""Alembic's environment: how the migrations in versions/ reach a database.

watcher runs them itself (:func:`watcher.migrations.upgrade`, from ``watcher db
upgrade`` and when a database is opened), handing over a connection already in
a transaction. The ``alembic`` command works too, for drafting the next version
against a scratch database: ``alembic -c watcher/migrations/alembic.ini
-x url=sqlite:///scratch.db revision --autogenerate -m "..."``.
"""

from __future__ import annotations

from contextlib import ExitStack

from alembic import context
from sqlalchemy import MetaData, create_engine, pool

from watcher.migrations import VERSION_TABLE

with ExitStack() as stack:
    connection = context.config.attributes.get("connection")
    target: MetaData | None = None  # upgrading needs only the scripts
    if connection is None:
        # The alembic command, drafting the next version: it compares a database at
        # the newest version with the tables watcher.store declares. The one import of
        # this package from the store above it (tests/test_layers.py allows it).
        from watcher.store import metadata as target

        url = context.get_x_argument(as_dictionary=True)["url"]
        engine = create_engine(url, poolclass=pool.NullPool)
        connection = stack.enter_context(engine.connect())
    context.configure(
        connection=connection,
        target_metadata=target,
        version_table=VERSION_TABLE,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()
