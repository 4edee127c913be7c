"""A `watcher check` against news on loopback: configs, feeds, article pages and sample stories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.loopback import LoopbackServer, Request, Response
from watcher.cli.main import main

ARTICLE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="2024-08-0{day}T10:00:00Z"></head>
<body><nav>Home | World</nav><article><h1>{title}</h1>
<p>{title}. The United States military said its forces in Niger continued to pack equipment
at the bases this week, officials said on condition of anonymity.</p>
<p>Further reporting followed from the capital, where ministers met diplomats.</p>
</article><footer>Share. All rights reserved.</footer></body></html>"""


def rss(base: str, *slugs: str) -> str:
    items = "".join(
        f"<item><title>Story {s}</title><link>{base}/a/{s}.html</link><guid>{s}</guid></item>"
        for s in slugs
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>{items}</channel></rss>'
    )


def with_etag(body: str, etag: str = '"v1"'):
    """A feed served with an ETag, answering 304 when it is sent back."""

    def handler(request: Request) -> Response:
        if request.headers.get("if-none-match") == etag:
            return Response(b"", 304, {"ETag": etag})
        return Response(body.encode(), 200, {"ETag": etag, "Content-Type": "application/rss+xml"})

    return handler


def serve_articles(server: LoopbackServer, *slugs: str) -> None:
    for day, slug in enumerate(slugs, start=1):
        server.route(f"/a/{slug}.html", ARTICLE.format(title=f"Story {slug}", day=day % 10))


def write_config(tmp_path: Path, server: LoopbackServer, sources: dict[str, str], **http) -> Path:
    settings = {
        "allow_private_addresses": "true",
        "per_host_delay": "0",
        "retries": "0",
        "backoff": "0.05",
        "read_timeout": "1",
        **{k: str(v) for k, v in http.items()},
    }
    lines = ['[state]\npath = "state.db"\n[http]']
    lines += [f"{k} = {v}" for k, v in settings.items()]
    for name, path in sources.items():
        # Made-up titles: every item is fetched (see test_relevance.py for the pre-filter).
        lines.append(f'[[sources]]\nname = "{name}"\nurl = "{server.url(path)}"\nfetch = "all"')
    config = tmp_path / "watcher.toml"
    config.write_text("\n".join(lines) + "\n")
    return config


def run(config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, dict]:
    code = main(["check", "--config", str(config), "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="{published}T09:00:00Z"></head>
<body><nav>Home | Africa</nav><article><h1>{title}</h1>{paragraphs}</article>
<footer>Share. All rights reserved.</footer></body></html>"""

HANDOVER = (
    "US hands over Agadez drone base",
    "2024-08-05",
    [
        "AGADEZ, Niger — The United States military handed over Air Base 201 near Agadez "
        "to Niger's army on Monday, a joint statement said.",
        "The handover leaves no American installation in Niger, officials said.",
    ],
)

EARLY_COMPLETION = (
    "US completes Niger withdrawal early",
    "2024-08-06",
    [
        "NIAMEY — The US Africa Command said the withdrawal of American forces from Niger "
        "has been completed, weeks before the September 15 deadline.",
        "The last US troops left Niger on Monday, the Pentagon said.",
    ],
)

FRANCE = (
    "Last French troops leave Niger",
    "2024-08-04",
    [
        "NIAMEY — The last French soldiers left Niger on Friday, completing a withdrawal "
        "ordered by the junta after the coup.",
        "France had about 1,500 troops in Niger, based mostly at the air base in Niamey.",
    ],
)

RESTATEMENT = (
    "What the US pullout from Niger involves",
    "2024-06-10",
    [
        "NIAMEY — The United States agreed in April to withdraw its forces from Niger by "
        "September 15, after the junta ended a 2012 military cooperation accord.",
        "About 1,000 US troops are in Niger, most of them at Air Base 201 near Agadez.",
    ],
)


def page(story: tuple[str, str, list[str]]) -> str:
    title, published, paragraphs = story
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return PAGE.format(title=title, published=published, paragraphs=body)


def feed(base: str, slugs: list[str]) -> str:
    items = "".join(
        f"<item><title>{s}</title><link>{base}/a/{s}.html</link><guid>{s}</guid></item>"
        for s in slugs
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>'
    )


def publish(server: LoopbackServer, stories: dict[str, tuple[str, str, list[str]]]) -> None:
    for slug, story in stories.items():
        server.route(f"/a/{slug}.html", page(story))
    server.route("/feed.xml", feed(server.base_url, list(stories)))
