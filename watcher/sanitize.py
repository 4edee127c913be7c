"""Text taken from the web, made safe to store and to write anywhere.

Feeds and pages may carry control characters (``&#1;`` in a title is valid
HTML and decodes to U+0001) and characters that XML 1.0 cannot hold even
as references. Once stored they would break every later Atom feed (which
keeps the last 200 changes), so they are removed at the door, and writers
of XML remove them again whatever they are given.
"""

from __future__ import annotations

import re
import unicodedata

# What XML 1.0 cannot hold: C0 controls but tab and newlines, lone surrogates,
# U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot hold."""
    return _NOT_XML.sub("", text)


def web_line(text: str | None) -> str | None:
    """A one-line text from the web (a title): NFC, control characters dropped,
    whitespace collapsed; None when nothing is left."""
    if text is None:
        return None
    cleaned = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())
    return cleaned or None


def web_text(text: str | None) -> str | None:
    """A longer text from the web (a summary): like :func:`web_line`, paragraphs kept."""
    if text is None:
        return None
    lines = (web_line(line) or "" for line in text.replace("\r\n", "\n").split("\n"))
    cleaned = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    return cleaned or None
