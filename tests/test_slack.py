from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date

import httpx
import pytest

from tests.support.alerting import OUR_LINK, SECRET_PATH, Reply, Webhook, assert_inert, mrkdwn_texts
from tests.support.samples import HOSTILE, change, digest, evidence
from watcher.alerts.channels import ChannelError
from watcher.alerts.render import Renderer, load_templates
from watcher.alerts.slack import (
    BLOCKS_LIMIT,
    HEADER_LIMIT,
    SECTION_LIMIT,
    SOURCES_SHOWN,
    TEXT_LIMIT,
    build_alert_payload,
    build_digest_payloads,
    post_webhook,
    slack_url,
)

# The secret part of the webhook URL, which no error may show.
TOKEN = SECRET_PATH.rsplit("/", 1)[1]


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    hook = Webhook()
    yield hook
    hook.stop()


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_templates()


def test_alert_payload_as_slack_receives_it(webhook: Webhook, renderer: Renderer) -> None:
    sources = (
        evidence(),
        evidence(
            quote="Niger's army now holds the Agadez base.",
            url="https://news-b.example/agadez?id=1&lang=en",
            title="Agadez base changes hands",
            published=date(2024, 8, 6),
        ),
    )
    post_webhook(webhook.url, build_alert_payload(change(*sources), renderer), timeout=5)

    [payload] = webhook.posts
    header, fact, status, *source_blocks = payload["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Air Base 201 status"},
    }
    assert fact["type"] == "section"
    assert fact["text"]["text"] == "*Air Base 201 status*\noperating → *handed over*"
    assert status["type"] == "context"
    assert "confirmed by 2 independent sources" in status["elements"][0]["text"]
    assert len(source_blocks) == 2
    assert source_blocks[1]["text"]["text"] == (
        ">Niger's army now holds the Agadez base.\n"
        "<https://news-b.example/agadez?id=1&amp;lang=en|Agadez base changes hands>"
        " · news-b.example · 2024-08-06"
    )
    assert all(t["verbatim"] for b in source_blocks for t in [b["text"]])
    assert payload["text"].startswith("Air Base 201 status: operating → handed over")
    assert payload["unfurl_links"] is False


def test_article_text_can_never_ping_or_forge_a_link(renderer: Renderer) -> None:
    hostile = evidence(
        quote=HOSTILE,
        title="<!here> pwned | <@U999>",
        url="https://evil.example/a|b>c<d?x=1&y=2",
    )
    payload = build_alert_payload(
        change(hostile, evidence(url="javascript:alert(1)", title="js"), new="<!channel>"),
        renderer,
    )

    assert_inert(payload)
    joined = json.dumps(payload)
    for forbidden in ("<!channel>", "<!here>", "<@U123>", "<@U999>", "<http://evil", "<javascript"):
        assert forbidden not in joined
    assert "&lt;!channel&gt;" in joined and "Tom &amp; Jerry" in joined
    links = OUR_LINK.findall(" ".join(mrkdwn_texts(payload)))
    assert links == [
        "<https://evil.example/a%7Cb%3Ec%3Cd?x=1&amp;y=2|&lt;!here&gt; pwned | &lt;@U999&gt;>"
    ]


def test_slack_url_accepts_only_http() -> None:
    assert slack_url("https://a.example/x?a=1&b=2") == "https://a.example/x?a=1&amp;b=2"
    for bad in (
        "javascript:alert(1)",
        "mailto:x@y.example",
        "//a.example/x",
        "https://",
        "http://a b",
    ):
        assert slack_url(bad) is None


def test_limits_hold_whatever_the_article(renderer: Renderer) -> None:
    # Each & becomes &amp;: a quote within the quote limit can still overflow a section.
    sources = [
        evidence(quote="&" * 600, url=f"https://news-{i}.example/" + "p" * 1400, title="t" * 400)
        for i in range(SOURCES_SHOWN + 5)
    ]
    payload = build_alert_payload(change(*sources, label="L" * 400, new="&<>" * 400), renderer)

    assert len(payload["blocks"][0]["text"]["text"]) <= HEADER_LIMIT
    sections = [b["text"]["text"] for b in payload["blocks"] if b["type"] == "section"]
    assert max(len(s) for s in sections) <= SECTION_LIMIT
    assert "&amp;" * 100 in sections[1]  # the quote is there, cut, not dropped
    assert len(sections) == 1 + SOURCES_SHOWN
    assert payload["blocks"][-1]["elements"][0]["text"] == "and 5 more sources"
    assert len(payload["blocks"]) <= BLOCKS_LIMIT
    assert_inert(payload)


def test_long_digest_is_split_into_numbered_messages(webhook: Webhook, renderer: Renderer) -> None:
    changes = [
        change(evidence(), evidence(url="https://news-b.example/x"), label=f"Fact {i:02d}")
        for i in range(30)
    ]
    outlook = ("34 days left to the withdrawal deadline (2024-09-15)",)
    payloads = build_digest_payloads(digest(*changes, outlook=outlook), renderer)
    for payload in payloads:
        post_webhook(webhook.url, payload, timeout=5)

    assert len(webhook.posts) == len(payloads) >= 3
    count = len(webhook.posts)
    shown: list[str] = []
    for number, payload in enumerate(webhook.posts, 1):
        blocks = payload["blocks"]
        assert len(blocks) <= BLOCKS_LIMIT
        assert blocks[0]["text"]["text"] == f"Daily digest: US forces in Niger ({number}/{count})"
        for i, block in enumerate(blocks):
            match = re.match(r"\*(Fact \d\d)\*", block.get("text", {}).get("text", ""))
            if match:
                shown.append(match.group(1))
                # A change keeps its status and both sources in the same message.
                assert [b["type"] for b in blocks[i + 1 : i + 4]] == [
                    "context",
                    "section",
                    "section",
                ]
    assert shown == [f"Fact {i:02d}" for i in range(30)]
    last = " ".join(mrkdwn_texts(webhook.posts[-1]))
    assert "*Withdrawal deadline*: 2024-09-15" in last
    assert outlook[0] in last
    assert "2024-08-11 08:00 – 2024-08-12 08:00 CEST" in mrkdwn_texts(webhook.posts[0])[1]


def test_short_digest_is_one_message(renderer: Renderer) -> None:
    [payload] = build_digest_payloads(digest(), renderer)
    assert payload["blocks"][0]["text"]["text"] == "Daily digest: US forces in Niger"
    assert "_No fact changed in this period._" in mrkdwn_texts(payload)
    assert "*US troops in Niger*: unknown" in mrkdwn_texts(payload)


def test_digest_fallback_text_is_capped(renderer: Renderer) -> None:
    changes = [change(label="L" * 500 + str(i)) for i in range(100)]
    payloads = build_digest_payloads(digest(*changes), renderer)
    assert len(payloads[0]["text"]) <= TEXT_LIMIT
    assert all(len(p["blocks"]) <= BLOCKS_LIMIT for p in payloads)


@pytest.mark.parametrize(
    ("reply", "permanent", "retry_after"),
    [
        (Reply(429, "rate_limited", {"Retry-After": "30"}), False, 30.0),
        (Reply(500, "rollup_error"), False, None),
        (Reply(503, "", {"Retry-After": "7"}), False, 7.0),
        (Reply(404, "no_service"), True, None),
        (Reply(400, "invalid_payload"), True, None),
        (Reply(403, "action_prohibited"), True, None),
    ],
)
def test_refusals_say_whether_to_retry_and_never_show_the_url(
    webhook: Webhook, reply: Reply, permanent: bool, retry_after: float | None
) -> None:
    webhook.reply = reply
    with pytest.raises(ChannelError) as caught:
        post_webhook(webhook.url, {"text": "hello"}, timeout=5)

    error = caught.value
    assert error.permanent is permanent
    assert error.retry_after == retry_after
    assert str(error).startswith(f"Slack webhook: HTTP {reply.status}")
    assert reply.body in str(error)
    assert TOKEN not in str(error) and "127.0.0.1" not in str(error)


def test_a_given_client_is_used(webhook: Webhook) -> None:
    with httpx.Client(headers={"X-Test": "1"}) as client:
        post_webhook(webhook.url, {"text": "one"}, timeout=5, client=client)
        post_webhook(webhook.url, {"text": "two"}, timeout=5, client=client)
        assert not client.is_closed
    assert [p["text"] for p in webhook.posts] == ["one", "two"]


def test_webhook_down_or_slow_is_temporary(webhook: Webhook) -> None:
    webhook.reply = Reply(delay=1.0)
    with pytest.raises(ChannelError) as slow:
        post_webhook(webhook.url, {"text": "hello"}, timeout=0.2)
    assert not slow.value.permanent and "no answer within 0.2 s" in str(slow.value)

    url = webhook.url
    webhook.stop()
    with pytest.raises(ChannelError) as down:
        post_webhook(url, {"text": "hello"}, timeout=2)
    assert not down.value.permanent
    for error in (slow.value, down.value):
        assert TOKEN not in str(error) and "127.0.0.1" not in str(error)


def test_transport_error_naming_the_url_does_not_leak_it() -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError(f"connection reset while talking to {request.url}", request=request)

    url = "https://hooks.slack.example" + SECRET_PATH
    with (
        httpx.Client(transport=httpx.MockTransport(fail)) as client,
        pytest.raises(ChannelError) as caught,
    ):
        post_webhook(url, {"text": "x"}, timeout=1, client=client)
    assert not caught.value.permanent
    assert "connection reset" in str(caught.value) and TOKEN not in str(caught.value)


def test_invalid_webhook_url_is_permanent() -> None:
    with pytest.raises(ChannelError) as caught:
        post_webhook("hooks.slack.example/services/T/B/secret", {"text": "x"}, timeout=1)
    assert caught.value.permanent and "secret" not in str(caught.value)


FORMATTING = "*URGENT* _all_ ~not~ `rm` ＊wide＊ > quoted"


def test_article_text_cannot_format_a_slack_message(renderer: Renderer) -> None:
    """``*bold*`` or ``~strike~`` in a quote or title passed through and could spoof
    emphasis; each formatting character is now shown as a look-alike Slack does not read."""
    source = evidence(quote=FORMATTING, title=FORMATTING)
    payloads = [
        build_alert_payload(change(source), renderer),
        *build_digest_payloads(digest(change(source)), renderer),
    ]
    for payload in payloads:
        texts = mrkdwn_texts(payload)
        assert any("∗URGENT∗ ˍallˍ ∼not∼ ˋrmˋ ﹡wide﹡" in text for text in texts), texts
        for text in texts:
            for marked in ("*URGENT*", "_all_", "~not~", "`rm`", "＊wide＊"):
                assert marked not in text, text
        assert_inert(payload)
