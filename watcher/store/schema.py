"""The state database's tables, as this watcher writes them.

Every table a later stage needs is created by the migrations in
watcher/migrations; ``SCHEMA_VERSION`` is the newest of them.
"""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from watcher.models import AlertState, SourceHealth


class ItemState(StrEnum):
    """What became of a feed item's article."""

    PENDING = "pending"  # not fetched yet (or failed, to be tried again)
    DONE = "done"  # stored (or the item has no link: no article to fetch)
    FAILED = "failed"  # failed articles.max_attempts times: given up
    UNRELATED = "unrelated"  # not fetched: its title and summary name nothing of a story


metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", String, nullable=False),
)

sources = Table(
    "sources",
    metadata,
    Column("name", String, primary_key=True),
    Column("url", String, nullable=False),
    Column("added_at", DateTime(timezone=True)),
    Column("etag", String),
    Column("last_modified", String),
    Column("body_hash", String),
    Column("last_attempt", DateTime(timezone=True)),
    Column("last_success", DateTime(timezone=True)),
    Column("last_new_item", DateTime(timezone=True)),
    Column("last_error", Text),
    Column("consecutive_failures", Integer, nullable=False, default=0),
    # A SourceHealth: what the last health alert said about this source.
    Column("health", String, nullable=False, default=SourceHealth.OK),
    Column("health_since", DateTime(timezone=True)),
    # The feed found on a site's page (kind auto), polled instead of the page.
    Column("feed_url", String),
)

items = Table(
    "items",
    metadata,
    Column("source", String, primary_key=True),
    Column("item_id", String, primary_key=True),
    Column("link", String),
    Column("title", String),
    Column("published", DateTime(timezone=True)),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    # An ItemState: pending, done, failed or unrelated.
    Column("state", String, nullable=False, default=ItemState.PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", Text),
    Index("ix_items_state", "source", "state"),
)

articles = Table(
    "articles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("url", String, nullable=False, unique=True),
    Column("canonical_url", String),
    Column("source", String),
    Column("item_id", String),
    Column("title", String),
    Column("published", DateTime(timezone=True)),
    Column("text", Text, nullable=False),
    Column("text_hash", String, nullable=False, index=True),
    Column("fetched_at", DateTime(timezone=True), nullable=False),
    # Revisits: the page's validators for a conditional GET, when it was first
    # fetched, how often it was fetched again, when next (None: no more), and which
    # version of its text is stored (0: the first; each changed text adds one).
    Column("etag", String),
    Column("last_modified", String),
    Column("first_fetched", DateTime(timezone=True)),
    Column("revisits", Integer, nullable=False, default=0),
    Column("revisit_at", DateTime(timezone=True), index=True),
    Column("revision", Integer, nullable=False, default=0),
)

# The story of rows written before a config could follow several: the first
# story of the config that opens the database takes them (see adopt_legacy).
LEGACY_STORY = ""

# One value of one fact read from one article (kept with its evidence), for one story.
observations = Table(
    "observations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="SET NULL")),
    Column("key", String, nullable=False, index=True),
    Column("data", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("story", String, nullable=False, server_default=LEGACY_STORY),
)


def _knowledge_table(name: str, schema: MetaData) -> Table:
    return Table(
        name,
        schema,
        Column("story", String, primary_key=True),
        Column("key", String, primary_key=True),
        Column("data", Text, nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    )


# Current knowledge per story and fact key, as the comparison stage serialises it.
knowledge = _knowledge_table("knowledge", metadata)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String, nullable=False, index=True),
    # The story, then what changed from what to what (Change.identity): unique.
    Column("identity", String, nullable=False, unique=True),
    Column("status", String, nullable=False),
    Column("data", Text, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("story", String, nullable=False, server_default=LEGACY_STORY),
    Index("ix_changes_story_key", "story", "key"),
)


class CorrectionKind(StrEnum):
    """What a person (or the config) said about a story's facts."""

    REJECT = "reject"  # a change read wrongly: its observations no longer count
    SET = "set"  # a value a person knows (`watcher facts set`)
    PIN = "pin"  # a value pinned in the config ([facts.pins], a story's pins)


# Corrections, kept for good: undoing one marks it undone, and the fact is folded again.
corrections = Table(
    "corrections",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("story", String, nullable=False),
    Column("kind", String, nullable=False),
    Column("key", String, nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id")),
    # reject: the change's identity and the evidence rejected; set and pin: value,
    # qualifier and as_of.
    Column("data", Text, nullable=False),
    Column("why", Text),
    Column("by", String, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("undone_at", DateTime(timezone=True)),
    Column("undone_by", String),
    Index("ix_corrections_story", "story", "key"),
)

# The outbox: every message to send, written in the same transaction as the
# change that causes it, before anything is sent.
alerts = Table(
    "alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    # An AlertKind: change, correction, digest or health.
    Column("kind", String, nullable=False),
    Column("change_id", Integer, ForeignKey("changes.id")),
    # What the alert is about, for threading follow-ups (a fact key, a source).
    Column("subject_key", String, nullable=False),
    Column("channel", String, nullable=False),
    Column("idempotency_key", String, nullable=False, unique=True),
    Column("payload", Text, nullable=False),
    # An AlertState: pending, sending, sent, failed, uncertain (died between sending
    # and recording).
    Column("state", String, nullable=False, default=AlertState.PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("message_id", String),
    # How many parts of a message sent in parts were delivered (a retry starts after them).
    Column("parts_delivered", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Index("ix_alerts_state", "state", "next_attempt"),
)

# Running totals for the metrics (polls, failures by reason, facts read, ...), added to
# in the same transaction as what they count, so every process that writes (the
# daemon, `watcher check` on a timer) adds to them and any process can read them.
counters = Table(
    "counters",
    metadata,
    Column("name", String, primary_key=True),
    # The metric's labels as a JSON object with sorted keys ("{}" for none).
    Column("labels", String, primary_key=True),
    Column("value", Float, nullable=False, default=0.0),
)

# Several workers sharing one database (PostgreSQL; SQLite on one machine works the
# same way). Each source's next turn, and the lease of the worker polling it now:
# a worker claims due sources, and a poll is recorded only while its claim holds.
schedule = Table(
    "schedule",
    metadata,
    Column("source", String, primary_key=True),
    Column("interval", Float, nullable=False),
    # The turn this due time belongs to (without jitter): turns follow each other
    # at the interval, whoever polls and however long a poll takes.
    Column("turn_at", DateTime(timezone=True), nullable=False),
    Column("due_at", DateTime(timezone=True), nullable=False, index=True),
    # The worker polling it now, until when (renewed by its heartbeat).
    Column("worker", String, index=True),
    Column("lease_until", DateTime(timezone=True)),
    # Counts claims: a poll records its results only if no later claim was made.
    Column("claims", Integer, nullable=False, server_default="0"),
    Column("last_worker", String),
    Column("last_polled", DateTime(timezone=True)),
)

# Each `watcher run` that has used the database: its heartbeat, and what it says of
# itself for `watcher status` (JSON).
workers = Table(
    "workers",
    metadata,
    Column("id", String, primary_key=True),
    Column("name", String, nullable=False),
    Column("host", String, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=False),
    Column("stopped_at", DateTime(timezone=True)),
    # Its sources are taken over this long after its last heartbeat.
    Column("lease_seconds", Float, nullable=False),
    Column("info", Text, nullable=False),
)

# Per-host politeness shared by every worker: when the next request to a host may
# start (http.per_host_delay after the last one, whoever sent it).
host_turns = Table(
    "host_turns",
    metadata,
    Column("host", String, primary_key=True),
    Column("next_at", DateTime(timezone=True), nullable=False),
)

# The schema version this watcher writes: the newest migration in watcher/migrations.
SCHEMA_VERSION = 6
# PostgreSQL: the advisory lock that a writing transaction holds, as SQLite's BEGIN
# IMMEDIATE holds its write lock (see Store.transaction).
WRITE_LOCK = 0x77617463
