"""An Atom feed of fact changes, so watcher can be followed in any feed reader.

Every text and attribute passes through :func:`xml_text` on its way in: a
character XML cannot hold, stored by an older version or come some other
way, must not make the feed unreadable for good.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from watcher.alerts.render import REVISION_MARK, http_url, quoted
from watcher.models import FactChange
from watcher.sanitize import xml_text

ATOM = "http://www.w3.org/2005/Atom"
# Readers only show recent entries; older changes stay in `watcher facts`.
MAX_ENTRIES = 200


def _element(parent: ET.Element, tag: str, **attributes: str) -> ET.Element:
    clean = {name: xml_text(value) for name, value in attributes.items()}
    return ET.SubElement(parent, f"{{{ATOM}}}{tag}", clean)


def _text(parent: ET.Element, tag: str, text: str, **attributes: str) -> ET.Element:
    element = _element(parent, tag, **attributes)
    element.text = xml_text(text)
    return element


def _title(change: FactChange, *, with_story: bool) -> str:
    mark = f" ({REVISION_MARK})" if change.revision else ""
    title = f"{change.label}: {change.old or 'unknown'} → {change.new}{mark}"
    if change.status == "rejected":
        title = f"Rejected: {title}"
    if with_story and change.story:
        title = f"[{change.story}] {title}"
    return title


def _summary(change: FactChange) -> str:
    lines = [f"{change.label}: {change.old or 'unknown'} → {change.new} ({change.status})"]
    if change.story:
        lines.insert(0, f"Story: {change.story}")
    if change.revision:
        lines.append(f"{REVISION_MARK.capitalize()}: {change.old or 'unknown'} → {change.new}")
    for evidence in change.evidence:
        when = f", {evidence.published.isoformat()}" if evidence.published else ""
        where = f"({evidence.title or evidence.site}{when}) {evidence.url}"
        lines.append(f"{quoted(evidence.quote)} {where}")
    for evidence in change.revised_from:
        lines.append(f"Before the edit: {quoted(evidence.quote)}")
    return "\n\n".join(lines)


def entry_id(feed_id: str, change: FactChange, *, with_story: bool = False) -> str:
    """An entry's id, from what changed (not the database row, which a new database
    numbers again from 1): the same change keeps its id, another never takes it.

    In a feed of several stories (``with_story``) the story is part of it, as two
    stories may see the same fact move the same way; a one-story feed's ids are
    those it always had, so readers do not show its entries again.
    """
    parts = [
        feed_id,
        change.key,
        change.change_type,
        change.old_value,
        change.old_qualifier,
        change.new_value,
        change.new_qualifier,
    ]
    if with_story:
        parts.insert(1, change.story)
    what = "|".join(str(part) for part in parts)
    return uuid.uuid5(uuid.NAMESPACE_URL, what).urn


def build_feed(
    changes: Sequence[FactChange],
    *,
    title: str,
    feed_id: str,
    updated: datetime,
    self_url: str | None = None,
    with_story: bool = False,
) -> bytes:
    """The feed; ``self_url`` is where readers fetch it from (its rel="self" link).

    Each entry links to the article that reported the change (rel="alternate",
    where a reader's entry link goes); the other sources are rel="related".
    ``with_story`` (several stories in one feed) puts each change's story in its
    title and a category of its own. A rejected change says so.
    """
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_id)
    _text(feed, "updated", updated.isoformat())
    _text(feed, "generator", "watcher")
    if self_url:
        _element(feed, "link", rel="self", href=self_url, type="application/atom+xml")
    newest_first = sorted(changes, key=lambda c: (c.first_seen, c.change_id), reverse=True)
    for change in newest_first[:MAX_ENTRIES]:
        entry = _element(feed, "entry")
        _text(entry, "id", entry_id(feed_id, change, with_story=with_story))
        _text(entry, "title", _title(change, with_story=with_story))
        _text(entry, "published", change.first_seen.isoformat())
        _text(entry, "updated", change.first_seen.isoformat())
        author = _element(entry, "author")
        _text(author, "name", "watcher")
        linked = [e for e in change.evidence if http_url(e.url)]
        for number, evidence in enumerate(linked):
            rel = "alternate" if number == 0 else "related"
            link = _element(entry, "link", rel=rel, href=evidence.url)
            if evidence.title:
                link.set("title", xml_text(evidence.title))
        _text(entry, "category", change.key, term=change.key)
        if change.story:
            _text(entry, "category", change.story, term=change.story, scheme="urn:watcher:story")
        _text(entry, "content", _summary(change), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_feed(path: Path, data: bytes) -> None:
    """Replace the file atomically, so a reader never sees half a feed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
