"""What a fetched document is, from its first bytes, before any parser is imported:
a warm pass that gets the same bytes again needs no more than this."""

from __future__ import annotations

import re

# What may come before the root element: whitespace, declarations, comments.
_PROLOG = re.compile(rb"(?:\s|<\?.*?\?>|<!--.*?-->|<!doctype[^>]*>)*", re.IGNORECASE | re.DOTALL)
_ROOT = re.compile(rb"<([A-Za-z_][\w.:-]*)")
_HTML_DOCTYPE = re.compile(rb"<!doctype\s+html", re.IGNORECASE)
_HEAD_BYTES = 65536


def looks_like_html(content: bytes) -> bool:
    """True when the document is plainly a web page (an HTML doctype or root element)."""
    head = content[:_HEAD_BYTES].removeprefix(b"\xef\xbb\xbf")
    prolog = _PROLOG.match(head)
    end = prolog.end() if prolog else 0
    if _HTML_DOCTYPE.search(head, 0, end):
        return True
    root = _ROOT.match(head, end)
    return root is not None and root.group(1).lower() in (b"html", b"head", b"body")


def looks_like_sitemap(content: bytes) -> bool:
    """Whether a document's root element is a sitemap's (``urlset`` or ``sitemapindex``)."""
    head = content[:4096].lower()
    return b"<urlset" in head or b"<sitemapindex" in head
