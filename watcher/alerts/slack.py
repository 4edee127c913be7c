"""Slack messages through an incoming webhook: Block Kit payloads and posting them.

Every piece of article text is mrkdwn-escaped and put in ``verbatim`` text
objects, so nothing an article says can ping a channel or a person or forge
a link; links are http(s) only. Slack's limits are kept here (header 150
characters, section 3000, 50 blocks, text 40,000): a long digest becomes
several messages. The webhook URL is a secret and never appears in an error.
"""

from __future__ import annotations

from typing import Any

import httpx

from watcher.alerts.channels import ChannelError
from watcher.alerts.render import (
    TITLE_LIMIT,
    ChangeView,
    FactView,
    Renderer,
    SourceView,
    StoryView,
    clean,
    escape_mrkdwn,
    http_url,
    period_text,
    truncate,
)
from watcher.ingest.fetch import parse_retry_after
from watcher.logs import secret_forms
from watcher.models import Digest, FactChange

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
BLOCKS_LIMIT = 50
TEXT_LIMIT = 40_000
# Beyond this, a change lists only a count of its other sources.
SOURCES_SHOWN = 10
# A longer URL is shown as its title only, so the quote keeps its room in the section.
URL_LIMIT = 1500
VALUE_LIMIT = 500

Block = dict[str, Any]


def slack_url(url: str) -> str | None:
    """``url`` ready for ``<url|title>``: http(s) only; ``&``, ``<``, ``>``, ``|`` made inert."""
    link = http_url(url)
    if link is None:
        return None
    return link.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")


def escaped(text: str, limit: int) -> str:
    """``text`` mrkdwn-escaped and cut so that the escaped form fits ``limit`` characters."""
    result = escape_mrkdwn(text)
    if len(result) <= limit:
        return result
    pieces: list[str] = []
    used = 0
    for ch in text:
        piece = escape_mrkdwn(ch)
        if used + len(piece) > limit - 1:
            break
        pieces.append(piece)
        used += len(piece)
    return "".join(pieces) + "…"


def _mrkdwn(text: str) -> dict[str, Any]:
    # verbatim: Slack does no parsing of its own (no bare @channel, #channel or URL detection).
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _header(text: str) -> Block:
    # plain_text is never parsed for mentions or links, so it needs no escaping.
    text = truncate(text, HEADER_LIMIT) or "watcher"
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _source_block(source: SourceView) -> Block:
    """The quote, then ``<url|title> · site · date``; the quote gets whatever room is left."""
    title = escaped(source.title, TITLE_LIMIT)
    url = slack_url(source.url)
    link = f"<{url}|{title}>" if url and len(url) <= URL_LIMIT else title
    details = [link, escape_mrkdwn(source.site)]
    if source.published:
        details.append(source.published.isoformat())
    tail = "\n" + " · ".join(details)
    quote = escaped(source.quote, SECTION_LIMIT - len(tail) - 1)
    return _section(f">{quote}{tail}")


def _change_blocks(change: ChangeView) -> list[Block]:
    fact = (
        f"*{escaped(change.label, VALUE_LIMIT)}*\n"
        f"{escaped(change.old, VALUE_LIMIT)} → *{escaped(change.new, VALUE_LIMIT)}*"
    )
    status = change.status + (f", as of {change.as_of.isoformat()}" if change.as_of else "")
    blocks = [_section(fact)]
    if change.revision:
        blocks.append(_context(f"*{escaped(change.marker, VALUE_LIMIT)}*"))
    blocks.append(_context(escaped(status, VALUE_LIMIT)))
    blocks += [_source_block(s) for s in change.sources[:SOURCES_SHOWN]]
    hidden = len(change.sources) - SOURCES_SHOWN
    if hidden > 0:
        blocks.append(_context(f"and {hidden} more source{'s' if hidden > 1 else ''}"))
    if change.revised_from:
        blocks.append(_context("Before the edit, the article said:"))
        blocks += [_source_block(s) for s in change.revised_from[:SOURCES_SHOWN]]
    return blocks


def _fact_blocks(fact: FactView) -> list[Block]:
    line = f"*{escaped(fact.label, VALUE_LIMIT)}*: {escaped(fact.value, VALUE_LIMIT)}"
    if fact.as_of:
        line += f" (as of {fact.as_of.isoformat()})"
    blocks = [_section(line)]
    if fact.source:
        blocks.append(_source_block(fact.source))
    return blocks


def _outlook_blocks(lines: list[str]) -> list[Block]:
    """The outlook lines as bullets, in as few sections as the length limit allows."""
    texts = ["*Coming up*"]
    for line in lines:
        bullet = "• " + escaped(line, SECTION_LIMIT - 2)
        if len(texts[-1]) + 1 + len(bullet) > SECTION_LIMIT:
            texts.append(bullet)
        else:
            texts[-1] += "\n" + bullet
    return [_section(text) for text in texts]


def _story_blocks(story: StoryView | None) -> list[Block]:
    """``Story: *Wagner leaves Mali* (mali)`` under the header, when stories are named."""
    if story is None:
        return []
    named = f" ({escaped(story.name, VALUE_LIMIT)})" if story.name != story.title else ""
    return [_context(f"Story: *{escaped(story.title, VALUE_LIMIT)}*{named}")]


def _payload(text: str, blocks: list[Block]) -> dict[str, Any]:
    return {
        "text": truncate(text, TEXT_LIMIT),
        "blocks": blocks,
        # Several article links in one message would each unfold into a preview.
        "unfurl_links": False,
        "unfurl_media": False,
    }


def build_alert_payload(change: FactChange, renderer: Renderer) -> dict[str, Any]:
    """One message: the fact as header, its story (when named), old → new, the status,
    a section per source."""
    view = ChangeView.of(change)
    blocks = [_header(view.label), *_story_blocks(renderer.story_of(change)), *_change_blocks(view)]
    return _payload(renderer.slack_alert(change), blocks)


def build_digest_payloads(digest: Digest, renderer: Renderer) -> list[dict[str, Any]]:
    """The digest as one message, or several numbered ones when it exceeds the block limit.

    Blocks are kept in groups (a change with its sources, a fact with its
    source) and a group is never split between two messages.
    """
    groups: list[list[Block]] = [
        [
            *_story_blocks(renderer.story_of(digest)),
            _context(escape_mrkdwn(period_text(digest.period_start, digest.period_end))),
        ],
        [_section("*Changes*")],
    ]
    groups += [_change_blocks(ChangeView.of(c)) for c in digest.changes]
    if not digest.changes:
        groups.append([_section("_No fact changed in this period._")])
    groups.append([{"type": "divider"}, _section("*Current facts*")])
    groups += [_fact_blocks(FactView.of(f)) for f in digest.facts]
    if digest.outlook:
        outlook = [clean(line) for line in digest.outlook]
        groups.append([{"type": "divider"}, *_outlook_blocks(outlook)])

    room = BLOCKS_LIMIT - 1  # each message starts with its header
    chunks: list[list[Block]] = [[]]
    for group in groups:
        if chunks[-1] and len(chunks[-1]) + len(group) > room:
            chunks.append([])
        chunks[-1].extend(group)

    title = clean(digest.title)
    text = renderer.slack_digest(digest)
    if len(chunks) == 1:
        return [_payload(text, [_header(title), *chunks[0]])]
    payloads = []
    for number, chunk in enumerate(chunks, 1):
        part = f" ({number}/{len(chunks)})"
        header = truncate(title, HEADER_LIMIT - len(part)) + part
        fallback = text if number == 1 else escape_mrkdwn(header)
        payloads.append(_payload(fallback, [_header(header), *chunk]))
    return payloads


def _without_url(text: str, url: str) -> str:
    """``text`` with the webhook URL replaced in every form it may come back in
    (whole, its path or last segment, URL-encoded, JSON-escaped)."""
    for form in sorted(secret_forms(url), key=len, reverse=True):
        text = text.replace(form, "the webhook URL")
    return text


def post_webhook(
    url: str, payload: dict[str, Any], *, timeout: float, client: httpx.Client | None = None
) -> None:
    """Post one message to an incoming webhook; raise :class:`ChannelError` if it was not taken.

    429 and 5xx replies, timeouts and connection failures are temporary
    (``retry_after`` from Retry-After when given); other replies (404
    ``no_service``, 400 ``invalid_payload``, ...) are permanent.
    """
    try:
        if client is None:
            with httpx.Client() as own:
                response = own.post(url, json=payload, timeout=timeout)
        else:
            response = client.post(url, json=payload, timeout=timeout)
    except httpx.TimeoutException:
        raise ChannelError(
            f"Slack webhook: no answer within {timeout:g} s", permanent=False
        ) from None
    except (httpx.InvalidURL, httpx.UnsupportedProtocol):
        raise ChannelError(
            "Slack webhook: the configured URL is not valid", permanent=True
        ) from None
    except httpx.HTTPError as exc:
        reason = clean(_without_url(str(exc), url)) or type(exc).__name__
        raise ChannelError(f"Slack webhook: {reason}", permanent=False) from None
    if response.is_success:
        return
    # A proxy's error page may quote the URL it could not reach: never repeat it.
    body = truncate(clean(_without_url(response.text, url)), 200)
    reason = f"Slack webhook: HTTP {response.status_code}" + (f" {body}" if body else "")
    temporary = response.status_code == 429 or response.is_server_error
    raise ChannelError(
        reason,
        permanent=not temporary,
        retry_after=parse_retry_after(response.headers.get("retry-after")) if temporary else None,
    )
