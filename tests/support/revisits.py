"""Articles whose text is edited after they are first read, and a config that revisits them."""

from __future__ import annotations

from pathlib import Path

from tests.support.checks import page
from tests.support.loopback import LoopbackServer, Request, Response

WEBHOOK_ENV = "WATCHER_TEST_REVISIT_WEBHOOK"

FIRST = "NIAMEY — About 600 US troops remain in Niger, the Pentagon said on Tuesday."

EDITED = "NIAMEY — Only 24 US troops remain in Niger, the Pentagon said on Tuesday."

DEADLINE = "The United States agreed in April to withdraw its forces from Niger by September 15."


def story(*paragraphs: str) -> str:
    return page(("US troops still in Niger", "2024-08-06", list(paragraphs)))


class EditedPage:
    """An article page that answers conditional GETs and can be edited in place."""

    def __init__(self, html: str) -> None:
        self.version = 1
        self.html = html

    def edit(self, html: str) -> None:
        self.version += 1
        self.html = html

    def __call__(self, request: Request) -> Response:
        etag = f'"v{self.version}"'
        if request.headers.get("if-none-match") == etag:
            return Response(b"", 304, {"ETag": etag})
        return Response(self.html.encode(), 200, {"ETag": etag, "Content-Type": "text/html"})


def make_config(folder: Path, server: LoopbackServer, **articles: str) -> Path:
    folder.mkdir(exist_ok=True)
    settings = "".join(f'{key} = "{value}"\n' for key, value in articles.items())
    config = folder / "watcher.toml"
    config.write_text(
        '[state]\npath = "state.db"\n'
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        f"[articles]\n{settings}"
        '[notify]\natom = "changes.atom"\n'
        f'[notify.slack]\nwebhook_env = "{WEBHOOK_ENV}"\nimmediate = "all"\ndigest = "none"\n'
        # Made-up titles: every item is fetched (see test_relevance.py for the pre-filter).
        f'[[sources]]\nname = "wire"\nurl = "{server.url("/feed.xml")}"\nfetch = "all"\n'
    )
    return config
