"""An article's text and metadata, from an HTML page or a plain-text file.

HTML goes through trafilatura; plain text (like the seed articles) takes the
same path after its own, simpler extraction, so later stages never care
where an article came from.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from configparser import ConfigParser
from dataclasses import replace
from datetime import UTC, date, datetime
from functools import cache
from html import unescape
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urljoin, urlsplit

from watcher.models import Article
from watcher.sanitize import web_line

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Below this many characters an extraction is treated as having found no article.
MIN_TEXT_CHARS = 80
TITLE_MAX_CHARS = 200

_TEXT_SUFFIXES = {".txt", ".text", ".md"}
_HTML_SUFFIXES = {".html", ".htm", ".xhtml"}

# <link rel="canonical" href="...">, attributes in either order.
_CANONICAL = re.compile(
    rb"<link\b(?=[^>]*\brel\s*=\s*[\"']?canonical\b)[^>]*\bhref\s*=\s*[\"']?([^\"'\s>]+)",
    re.IGNORECASE,
)
# The canonical link sits in the head; no need to scan a whole long page for it.
_HEAD_BYTES = 65536


def canonical_of(html: bytes | str, url: str) -> str | None:
    """The page's canonical URL, when it names an http(s) URL other than ``url``."""
    head = html[:_HEAD_BYTES]
    found = _CANONICAL.search(head.encode("utf-8", "replace") if isinstance(head, str) else head)
    if not found:
        return None
    canonical = urljoin(url, found.group(1).decode("utf-8", "replace").replace("&amp;", "&"))
    if canonical == url or urlsplit(canonical).scheme not in ("http", "https"):
        return None
    return canonical


@cache
def _trafilatura_config() -> ConfigParser:
    """trafilatura's settings, without its time limit: that limit relies on signals,
    which only work on the main thread, and extraction runs in workers.

    trafilatura is imported here, on first use: commands and passes that read no
    page never load it (about a third of watcher's start-up).
    """
    from trafilatura.settings import use_config

    config = use_config()
    config.set("DEFAULT", "EXTRACTION_TIMEOUT", "0")
    return config


def load_extractor() -> None:
    """Import trafilatura and its settings now (in a fork server, before forking)."""
    _trafilatura_config()


class ExtractError(Exception):
    """No article could be read; ``str()`` says why in one line."""


# Formats a link in a feed may lead to instead of a web page, by their first bytes.
_BINARY_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (or an office document)"),
    (b"\x1f\x8b", "gzip-compressed data"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (b"ID3", "an MP3 file"),
)
_TEXT_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# A feed's root element, after the XML declaration, comments and a doctype.
_FEED_ROOT = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*|<!--.*?-->\s*|<\?[^>]*>\s*|<!DOCTYPE[^>]*>\s*)*"
    rb"<(rss|feed|rdf:RDF)\b",
    re.DOTALL | re.IGNORECASE,
)
_FEED_NAMES = {b"rss": "an RSS feed", b"feed": "an Atom feed", b"rdf:rdf": "an RSS 1.0 feed"}
# Control bytes that do not occur in text (tab, newlines and form feed do).
_CONTROL_BYTES = frozenset(range(32)) - {9, 10, 12, 13} | {127}


def _not_a_page(content: bytes | str) -> str | None:
    """What ``content`` is when it plainly is not an article (empty, PDF, image, feed, binary)."""
    if not content.strip():
        return "the page is empty"
    head = content[:1024]
    if isinstance(head, str):
        head = head.encode("utf-8", "replace")
    for magic, what in _BINARY_MAGIC:
        if head.lstrip().startswith(magic):
            return f"not a web page: {what}"
    if feed := _FEED_ROOT.match(head):
        what = _FEED_NAMES[feed.group(1).lower()]
        return f"not an article: {what} (its items link to articles)"
    # UTF-16 and UTF-32 pages carry NUL bytes too; they start with a byte-order mark.
    if b"\0" in head and not head.startswith(_TEXT_BOMS):
        return "not a web page: binary data"
    return None


def _binary(raw: bytes) -> bool:
    """Whether bytes that are not UTF-8 are too full of control bytes to be text."""
    sample = raw[:8192]
    return sum(byte in _CONTROL_BYTES for byte in sample) > len(sample) // 100


_KEPT = frozenset("\n\t")


def _clean(text: str) -> str:
    """Normalise Unicode and whitespace; strip control characters."""
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    # Each distinct character is judged once, not each occurrence (a page has
    # thousands of characters, a few hundred distinct ones).
    control = {ord(ch): None for ch in set(text) - _KEPT if unicodedata.category(ch)[0] == "C"}
    if control:
        text = text.translate(control)
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def as_datetime(value: date | datetime | str | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    try:
        return as_datetime(datetime.fromisoformat(value))
    except ValueError:
        return None


def extract_html(
    html: bytes | str,
    url: str,
    *,
    fallback_title: str | None = None,
    fallback_published: datetime | None = None,
    source: str | None = None,
) -> Article:
    """Main text, title, publication date and canonical URL of a web page.

    The page's own title and date win; the feed item's are the fallback.
    """
    if reason := _not_a_page(html):
        raise ExtractError(reason)
    import trafilatura
    from trafilatura.settings import Document
    from trafilatura.utils import load_html

    config = _trafilatura_config()
    try:
        # Parsed once: the title and date are read from this tree, and trafilatura
        # extracts the text from a copy of it.
        # The size is checked here: trafilatura before 2.2 takes no limit in load_html.
        if len(html) > (limit := config.getint("DEFAULT", "MAX_FILE_SIZE")):
            raise ExtractError(f"page too large to extract ({len(html):,} bytes, over {limit:,})")
        tree = load_html(html)
        if tree is None:
            raise ExtractError("could not parse the page: no HTML document in it")
        title, date = _title_and_date(tree, url)
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            include_comments=False,
            include_tables=False,
            deduplicate=False,
            config=config,
        )
    except ExtractError:
        raise
    except Exception as exc:  # trafilatura raises a wide range on broken markup
        detail = " ".join(str(exc).split())
        raise ExtractError(f"could not parse the page: {type(exc).__name__}: {detail}") from None
    if not isinstance(document, Document) or not document.text:
        raise ExtractError("no article text found on the page")
    text = _clean(document.text)
    if len(text) < MIN_TEXT_CHARS:
        raise ExtractError(f"article text too short ({len(text)} characters)")
    canonical = canonical_of(html, url)
    return Article(
        url=url,
        # The feed's title is the fallback; a stored one may predate cleaning at the door.
        title=_clean(title) if title else web_line(fallback_title),
        text=text,
        published=as_datetime(date) or fallback_published,
        canonical_url=canonical,
        source=source,
    )


def _title_and_date(tree: HtmlElement, url: str) -> tuple[str | None, str | None]:
    """The page's title and publication date, found as trafilatura's metadata extraction
    finds them (meta tags, then JSON-LD, then the page; htmldate for the date), but
    without the fields watcher does not use: author, site name, categories, tags and
    licence took more than half of that extraction's time."""
    from htmldate import find_date
    from trafilatura.metadata import examine_meta, extract_meta_json, extract_title, extract_url
    from trafilatura.utils import line_processing

    meta = examine_meta(tree)
    with contextlib.suppress(Exception):  # trafilatura too goes on without the JSON-LD
        meta = extract_meta_json(tree, meta)
    title = meta.title or extract_title(tree)
    if title:
        title = line_processing(unescape(title[:10000]))
    date = find_date(
        tree, url=meta.url or extract_url(tree, url), extensive_search=False, original_date=True
    )
    return title, date


def _looks_like_title(line: str) -> bool:
    return 0 < len(line) <= TITLE_MAX_CHARS and not line.rstrip().endswith(
        (".", "!", "?", ":", ";", ",", "”", '"')
    )


def extract_text(
    text: str,
    url: str,
    *,
    title: str | None = None,
    published: date | datetime | None = None,
    source: str | None = None,
) -> Article:
    """An article from plain text; a short first line without closing punctuation is its title."""
    cleaned = _clean(text)
    first, _, rest = cleaned.partition("\n")
    if title is None and rest.strip() and _looks_like_title(first):
        title, cleaned = first.strip(), rest.strip()
    title = web_line(title)
    if not cleaned:
        raise ExtractError("the text is empty")
    return Article(
        url=url,
        title=title,
        text=cleaned,
        published=as_datetime(published),
        source=source,
    )


def extract_file(
    path: Path,
    *,
    title: str | None = None,
    published: date | datetime | None = None,
) -> Article:
    """An article from a local file: HTML by its suffix or content, otherwise plain text.

    A title or date given here overrides what the file says.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"cannot read: {exc.strerror}") from None
    if reason := _not_a_page(raw):
        raise ExtractError(reason.replace("not a web page", "not text or a web page"))
    url = path.resolve().as_uri()
    suffix = path.suffix.lower()
    is_html = suffix in _HTML_SUFFIXES or (
        suffix not in _TEXT_SUFFIXES
        and raw.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))
    )
    if is_html:
        article = extract_html(raw, url)
        if title is not None:
            article = replace(article, title=title)
        if (published_at := as_datetime(published)) is not None:
            article = replace(article, published=published_at)
        return article
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        if _binary(raw):
            raise ExtractError("not text or a web page: binary data") from None
        text = raw.decode("latin-1")
    return extract_text(text, url, title=title, published=published)
