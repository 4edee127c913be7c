"""An Atom feed of fact changes, so watcher can be followed in any feed reader.

Every text and attribute passes through :func:`xml_text` on its way in: a
character XML cannot hold, stored by an older version or come some other
way, must not make the feed unreadable for good.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from watcher.alerts.render import quoted
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


def _summary(change: FactChange) -> str:
    lines = [f"{change.label}: {change.old or 'unknown'} → {change.new} ({change.status})"]
    for evidence in change.evidence:
        when = f", {evidence.published.isoformat()}" if evidence.published else ""
        where = f"({evidence.title or evidence.site}{when}) {evidence.url}"
        lines.append(f"{quoted(evidence.quote)} {where}")
    return "\n\n".join(lines)


def build_feed(
    changes: Sequence[FactChange], *, title: str, feed_id: str, updated: datetime
) -> bytes:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _text(feed, "title", title)
    _text(feed, "id", feed_id)
    _text(feed, "updated", updated.isoformat())
    _text(feed, "generator", "watcher")
    newest_first = sorted(changes, key=lambda c: (c.first_seen, c.change_id), reverse=True)
    for change in newest_first[:MAX_ENTRIES]:
        entry = _element(feed, "entry")
        _text(entry, "id", f"{feed_id}:change:{change.change_id}")
        _text(entry, "title", f"{change.label}: {change.old or 'unknown'} → {change.new}")
        _text(entry, "updated", change.first_seen.isoformat())
        author = _element(entry, "author")
        _text(author, "name", "watcher")
        for evidence in change.evidence:
            link = _element(entry, "link", rel="related", href=evidence.url)
            if evidence.title:
                link.set("title", xml_text(evidence.title))
        _text(entry, "category", change.key, term=change.key)
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
