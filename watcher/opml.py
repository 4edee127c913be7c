"""OPML subscription lists: reading one into sources, writing the sources as one.

Reading is listparser's (it knows OPML 1 and 2, nested folders, and the
quirks of the readers that export them), always on bytes read here, so it
never fetches anything itself; an ``include`` outline is reported, not
followed. Each outline is judged alone: one with a broken URL is skipped
with a line naming the file and the outline, and the others are imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import listparser

from watcher.config import Source, SourceKind, check_http_url
from watcher.sanitize import web_line, xml_text

# An OPML file is a list of links; a larger one is not a subscription list.
MAX_OPML_BYTES = 10_000_000


class OpmlError(Exception):
    """A file that is not a usable OPML list; ``str()`` is one line naming it."""


@dataclass(frozen=True)
class Outline:
    """A feed an OPML file lists: its URL and the title it was given."""

    url: str
    title: str | None
    position: int  # 1-based, in document order, to name it in messages


@dataclass(frozen=True)
class OpmlList:
    outlines: list[Outline]
    skipped: list[str]  # one line per outline that cannot be a source


def read_opml(path: Path) -> OpmlList:
    """The feeds listed in an OPML file; broken outlines are skipped, each with one line."""
    try:
        with path.open("rb") as file:
            content = file.read(MAX_OPML_BYTES + 1)
    except OSError as exc:
        raise OpmlError(f"{path}: cannot read: {exc.strerror}") from None
    if len(content) > MAX_OPML_BYTES:
        raise OpmlError(f"{path}: larger than {MAX_OPML_BYTES} bytes; not a subscription list")
    if not content.strip():
        raise OpmlError(f"{path}: empty file, no OPML")
    parsed = listparser.parse(content)
    if not parsed.version:
        problem = parsed.get("bozo_exception")
        detail = f" ({' '.join(str(problem).split())})" if problem else ""
        raise OpmlError(f"{path}: not an OPML subscription list{detail}")
    outlines: list[Outline] = []
    skipped: list[str] = []
    for position, feed in enumerate(parsed.feeds, start=1):
        url = (feed.get("url") or "").strip()
        title = web_line(feed.get("title"))
        where = f"{path}: outline {position}" + (f" ({title!r})" if title else "")
        try:
            check_http_url(url)
        except ValueError as exc:
            skipped.append(f"{where}: {exc}")
            continue
        outlines.append(Outline(url, title, position))
    for included in parsed.lists:
        skipped.append(f"{path}: an included list is not followed: {included.get('url')!r}")
    if not outlines and not skipped:
        raise OpmlError(f"{path}: the OPML list has no feed in it")
    return OpmlList(outlines, skipped)


def write_opml(sources: list[Source], *, title: str, now: datetime | None = None) -> bytes:
    """The sources as an OPML 2.0 subscription list.

    Feeds (and sites, whose feed watcher finds) are ``type="rss"`` outlines that any
    reader imports; page and sitemap sources have no OPML type and are written as
    ``type="link"`` outlines with a ``watcherKind`` attribute, which readers skip.
    """
    now = now or datetime.now(UTC)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml_text(title)
    ET.SubElement(head, "dateCreated").text = format_datetime(now)
    body = ET.SubElement(root, "body")
    for source in sources:
        attributes = {"text": xml_text(source.name), "title": xml_text(source.name)}
        if source.kind in (SourceKind.AUTO, SourceKind.FEED):
            attributes.update(type="rss", xmlUrl=xml_text(source.url))
        else:
            attributes.update(type="link", url=xml_text(source.url), watcherKind=source.kind)
        if not source.enabled:
            attributes["watcherEnabled"] = "false"
        ET.SubElement(body, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
