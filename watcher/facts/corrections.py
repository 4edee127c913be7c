"""A person in the loop: rejecting a change read wrongly, setting a value, undoing either.

Each is a row in the corrections table (who, why, when), and the fact it
touches is folded again from the baseline at once, so knowledge is what the
observations and the corrections give. These run in the caller's
transaction; the alerts they cause (a correction notice, a change a refold
brings out) are queued by the caller in the same one (watcher.alerts.corrections).
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, select

from watcher.facts.baseline import BaselineError, normalise_pin
from watcher.facts.compare import Policy
from watcher.facts.fold import RecordedChange, fold
from watcher.facts.knowledge import read
from watcher.facts.known import Change, KnownFact, describe
from watcher.facts.stories import Story
from watcher.models import ChangeStatus, FactKind
from watcher.store import (
    CorrectionKind,
    Store,
    StoredCorrection,
    change_identity,
    changes,
    decode_data,
)


class CorrectionError(ValueError):
    """A correction that cannot be made; the message is one line."""


def who() -> str:
    """The person correcting: the login name (``$WATCHER_USER`` overrides it)."""
    if name := os.environ.get("WATCHER_USER"):
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


@dataclass(frozen=True)
class Corrected:
    """What a correction did: its row, the fact as it now stands, and the changes the
    fact's new path created or moved on (for their alerts)."""

    correction_id: int
    story: Story
    key: str
    fact: KnownFact | None
    recorded: list[RecordedChange]


@dataclass(frozen=True)
class Rejected(Corrected):
    change: Change | None = None  # the change rejected
    change_id: int = 0
    why: str | None = None
    by: str = ""


def _change_row(conn: Connection, change_id: int) -> Any:
    row = conn.execute(select(changes).where(changes.c.id == change_id)).mappings().first()
    if row is None:
        raise CorrectionError(f"change {change_id}: no such change (see `watcher facts --json`)")
    return row


def _story_of(stories: list[Story], name: str, what: str) -> Story:
    for story in stories:
        if story.name == name:
            return story
    raise CorrectionError(f"{what}: belongs to story {name!r}, which the config no longer follows")


def reject(
    conn: Connection,
    stories: list[Story],
    change_id: int,
    *,
    why: str | None,
    by: str,
    at: datetime,
    policy: Policy,
) -> Rejected:
    """Mark a change wrong: its observations stop counting and its fact is folded
    again without them. The change stays, shown as rejected."""
    row = _change_row(conn, change_id)
    story = _story_of(stories, row["story"], f"change {change_id}")
    if row["status"] == ChangeStatus.REJECTED:
        raise CorrectionError(f"change {change_id}: already rejected (`watcher facts` shows it)")
    if row["status"] == ChangeStatus.SUPERSEDED:
        raise CorrectionError(
            f"change {change_id}: superseded by a later reading of the same fact; "
            "nothing of it counts now"
        )
    data = decode_data("changes", change_id, row["data"])
    if data is None:
        raise CorrectionError(f"change {change_id}: its stored data cannot be read")
    change = Change.from_json(data)
    correction_id = Store.add_correction(
        conn,
        story=story.name,
        kind=CorrectionKind.REJECT,
        key=change.key,
        change_id=change_id,
        data={
            "identity": change.identity,
            "status": row["status"],
            "value": change.new.value,
            "qualifier": change.new.qualifier,
            "evidence": [{"url": e.url, "quote": e.quote} for e in change.evidence],
        },
        why=why,
        by=by,
        at=at,
    )
    Store.set_change_state(
        conn,
        change_id,
        ChangeStatus.REJECTED,
        f"{change_identity(story.name, change.identity)}|rejected:{correction_id}",
        at=at,
    )
    recorded = fold(conn, story, [], policy=policy, at=at, refold={change.key})
    fact = read(conn, story.name).get(change.key)
    return Rejected(correction_id, story, change.key, fact, recorded, change, change_id, why, by)


def set_value(
    conn: Connection,
    story: Story,
    key: str,
    value: str | int,
    *,
    qualifier: str | None,
    as_of: date,
    why: str | None,
    by: str,
    at: datetime,
    policy: Policy,
) -> Corrected:
    """Record a value a person knows: it holds from ``as_of`` until a later article
    reports a further change."""
    if key not in story.topic.keys:
        raise CorrectionError(f"{key}: not a fact of story {story.name!r}")
    if as_of > at.date():
        raise CorrectionError(f"--as-of {as_of.isoformat()}: in the future")
    spec = {"value": parse_value(story, key, value), "as_of": as_of}
    if qualifier is not None:
        spec["qualifier"] = qualifier
    try:
        value, qualifier, _ = normalise_pin(key, spec, story.topic)
    except BaselineError as exc:
        raise CorrectionError(str(exc).removeprefix("pins: ")) from None
    correction_id = Store.add_correction(
        conn,
        story=story.name,
        kind=CorrectionKind.SET,
        key=key,
        data={"value": value, "qualifier": qualifier, "as_of": as_of.isoformat()},
        why=why,
        by=by,
        at=at,
    )
    recorded = fold(conn, story, [], policy=policy, at=at, refold={key})
    return Corrected(correction_id, story, key, read(conn, story.name).get(key), recorded)


def parse_value(story: Story, key: str, value: str | int) -> str | int:
    """A value as typed: a count is a whole number ("1,100" too), a status as written."""
    try:
        kind = story.topic.fact(key).kind
    except KeyError:
        return value
    if kind == FactKind.QUANTITY and isinstance(value, str):
        digits = value.replace(",", "").replace("_", "").strip()
        if not digits.isdigit():
            raise CorrectionError(f"{key}: {value!r} is not a whole number")
        return int(digits)
    if kind == FactKind.STATUS and isinstance(value, str):
        return value.strip().replace(" ", "_")
    return value


def undo(
    conn: Connection,
    stories: list[Story],
    correction_id: int,
    *,
    by: str,
    at: datetime,
    policy: Policy,
) -> Corrected:
    """Take a correction back: the fact is folded again as if it had not been made. A
    rejected change is restored (or left superseded, if the same news has become a
    change of its own since)."""
    found = Store.read_corrections(conn, correction_id=correction_id)
    if not found:
        raise CorrectionError(f"correction {correction_id}: no such correction")
    correction: StoredCorrection = found[0]
    if correction.undone_at is not None:
        raise CorrectionError(
            f"correction {correction_id}: already undone by {correction.undone_by} "
            f"on {correction.undone_at:%Y-%m-%d %H:%M} UTC"
        )
    if correction.kind == CorrectionKind.PIN:
        raise CorrectionError(
            f"correction {correction_id}: a pin from the config; remove it from the config"
        )
    story = _story_of(stories, correction.story, f"correction {correction_id}")
    Store.undo_correction(conn, correction_id, by=by, at=at)
    if correction.kind == CorrectionKind.REJECT and correction.change_id is not None:
        identity = change_identity(story.name, correction.data["identity"])
        if Store.identity_taken(conn, identity):
            Store.set_change_state(
                conn,
                correction.change_id,
                ChangeStatus.SUPERSEDED,
                f"{identity}|superseded:{correction_id}",
                at=at,
            )
        else:
            status = ChangeStatus(correction.data.get("status", ChangeStatus.REPORTED))
            Store.set_change_state(conn, correction.change_id, status, identity, at=at)
    recorded = fold(conn, story, [], policy=policy, at=at, refold={correction.key})
    fact = read(conn, story.name).get(correction.key)
    return Corrected(correction_id, story, correction.key, fact, recorded)


def value_text(fact: KnownFact | None) -> str:
    return describe(fact.kind, fact.value, fact.qualifier) if fact else "unknown"
