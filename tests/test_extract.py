from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from watcher.cli.main import main
from watcher.ingest.extract import ExtractError, extract_file, extract_html, extract_text

SEEDS = Path(__file__).parent.parent / "seeds"
DEMO_SITE = Path(__file__).parent.parent / "watcher" / "cli" / "demo_site"

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<title>Drone base handed over | Wire</title>
<link rel="canonical" href="https://wire.test/2024/08/handover.html">
<meta property="article:published_time" content="2024-08-05T10:00:00Z">
</head><body><nav>Home | World | Africa</nav>
<article><h1>Drone base handed over</h1>
<p>The United States handed over Air Base 201 near Agadez to Niger's authorities on Monday,
officials said, completing its withdrawal from the base.</p>
<p>The handover came weeks ahead of the September 15 deadline agreed by the two governments.</p>
</article><footer>Share. Cookie settings. All rights reserved.</footer></body></html>"""


def test_html_article_text_title_date_and_canonical_url() -> None:
    article = extract_html(PAGE, "http://127.0.0.1:9/x.html", source="wire")
    assert "handed over Air Base 201" in article.text
    assert "Cookie settings" not in article.text
    assert article.title.startswith("Drone base handed over")
    assert article.published == datetime(2024, 8, 5, tzinfo=UTC)
    assert article.canonical_url == "https://wire.test/2024/08/handover.html"
    # Independence is counted by where a page was fetched, not what it claims to be.
    assert article.site == "127.0.0.1"


def test_feed_item_date_is_the_fallback() -> None:
    page = PAGE.replace(
        '<meta property="article:published_time" content="2024-08-05T10:00:00Z">', ""
    )
    fallback = datetime(2024, 8, 6, 7, tzinfo=UTC)
    article = extract_html(page, "http://127.0.0.1:9/x.html", fallback_published=fallback)
    assert article.published == fallback


@pytest.mark.parametrize("page", ["", "<html><body><p>Hi</p></body></html>", "\x00\x01garbage"])
def test_pages_without_an_article_fail_clearly(page: str) -> None:
    with pytest.raises(ExtractError):
        extract_html(page, "http://127.0.0.1:9/x.html")


def test_seed_with_title_line() -> None:
    article = extract_file(SEEDS / "000_1b701daddded4476.txt", published=date(2024, 4, 20))
    assert article.title == "The United States agrees to withdraw its forces from Niger"
    assert article.text.startswith("The United States has agreed")
    assert article.published == datetime(2024, 4, 20, tzinfo=UTC)
    assert article.url.startswith("file://")


def test_seed_without_title_line_keeps_its_first_sentence() -> None:
    article = extract_file(SEEDS / "002_4f896d0f4a15c4a5.txt")
    assert article.title is None
    assert article.text.startswith("US Deputy Secretary of State Kurt Campbell")


def test_plain_text_control_characters_are_stripped() -> None:
    article = extract_text("Title\n\nBody with \x1b[31mred\x1b[0m text.", "file:///t.txt")
    assert article.title == "Title"
    assert "\x1b" not in article.text


def test_html_file_is_read_as_html(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(PAGE)
    article = extract_file(path)
    assert "Air Base 201" in article.text and "<p>" not in article.text


def test_missing_file() -> None:
    with pytest.raises(ExtractError, match="cannot read"):
        extract_file(Path("/nonexistent/article.txt"))


def extract_cli(capsys: pytest.CaptureFixture[str], target: Path) -> tuple[int, str, str]:
    code = main(["extract", str(target)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_extract_of_a_missing_file_names_it_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.txt"
    code, _, err = extract_cli(capsys, missing)
    assert code == 2
    assert err == f"watcher: error: {missing}: cannot read: No such file or directory\n"


@pytest.mark.parametrize(
    ("name", "what"),
    [("sahel-wire/feed.xml", "an RSS feed"), ("desert-dispatch/atom.xml", "an Atom feed")],
)
def test_extract_of_a_feed_says_it_is_a_feed(
    capsys: pytest.CaptureFixture[str], name: str, what: str
) -> None:
    code, out, err = extract_cli(capsys, DEMO_SITE / name)
    assert (code, out) == (2, "")
    assert err.strip().endswith(f"not an article: {what} (its items link to articles)")


def test_extract_of_random_bytes_is_an_error_not_a_garbage_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    noise = random.Random(12).randbytes(4000)
    for name, data in [("noise.bin", noise), ("no-nul.txt", noise.replace(b"\0", b""))]:
        path = tmp_path / name
        path.write_bytes(data)
        code, out, err = extract_cli(capsys, path)
        assert (code, out) == (2, "")
        assert err == f"watcher: error: {path}: not text or a web page: binary data\n"
    # Text in a legacy encoding is still read.
    legacy = tmp_path / "latin1.txt"
    legacy.write_bytes("Niamey\n\nLes forces américaines ont quitté le Niger.".encode("latin-1"))
    code, out, _ = extract_cli(capsys, legacy)
    assert code == 0 and "américaines" in out
