from __future__ import annotations

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from tests.support.samples import HOSTILE, change, digest, evidence
from watcher.alerts.render import (
    QUOTE_LIMIT,
    Renderer,
    TemplateError,
    alert_subject,
    load_templates,
    thread_topic,
)


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return load_templates()


def test_alert_shows_fact_values_status_and_every_source(renderer: Renderer) -> None:
    sources = (
        evidence(),
        evidence(
            quote="Niger's army now holds the Agadez base.",
            url="https://news-b.example/agadez?id=1&lang=en",
            title="Agadez base changes hands",
            published=date(2024, 8, 6),
        ),
    )
    rendered = renderer.alert(change(*sources))

    assert rendered.subject == "[watcher] Air Base 201 status: operating → handed over"
    for part in (rendered.text, rendered.html):
        assert "Air Base 201 status" in part
        assert re.search(r"operating(</span>)? → (<strong>)?handed over", part)
        assert "onfirmed by 2 independent sources" in part
        for site, published in (("news-a.example", "2024-08-05"), ("news-b.example", "2024-08-06")):
            assert site in part and published in part
    assert "US hands over drone base in Agadez" in rendered.text
    assert "https://news-b.example/agadez?id=1&lang=en" in rendered.text
    assert "Niger's army now holds the Agadez base." in rendered.text
    # HTML: quotes as blockquotes, titles as links to the articles.
    assert rendered.html.count("<blockquote") == 2
    assert "Niger&#39;s army now holds the Agadez base.</blockquote>" in rendered.html
    assert '<a href="https://news-b.example/agadez?id=1&amp;lang=en">' in rendered.html


def test_independent_sources_are_counted_by_site(renderer: Renderer) -> None:
    same_site = (
        evidence(url="https://www.news-a.example/one"),
        evidence(url="https://news-a.example/two"),
    )
    text = renderer.alert(change(*same_site, status="reported")).text
    assert "reported by 1 source" in text


def test_hostile_article_text_is_inert_in_html(renderer: Renderer) -> None:
    hostile = evidence(
        quote=HOSTILE,
        url="javascript:alert(1)",
        title='"><img src=x onerror=alert(1)>',
    )
    rendered = renderer.alert(change(hostile, new="<b>handed</b> over"))

    assert "<script" not in rendered.html and "<img" not in rendered.html
    assert "<b>handed" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "&lt;!channel&gt;" in rendered.html
    # A link that is not http(s) is shown, never linked.
    assert re.findall(r"href=", rendered.html) == []
    assert "javascript:alert(1)" in rendered.html
    # Terminal escape codes never reach either part.
    assert "\x1b" not in rendered.text and "\x1b" not in rendered.html
    assert "Tom & Jerry" in rendered.text  # the text part is not HTML-escaped


def test_long_quotes_are_truncated_everywhere(renderer: Renderer) -> None:
    words = " ".join(f"word{i}" for i in range(400))
    rendered = renderer.alert(change(evidence(quote=words)))

    quoted = re.search(r"<blockquote[^>]*>(.*?)</blockquote>", rendered.html, re.S)
    assert quoted is not None
    shown = quoted.group(1)
    assert len(shown) <= QUOTE_LIMIT and shown.endswith("…")
    assert words[: QUOTE_LIMIT // 2] in shown
    assert "word399" not in rendered.text and "word399" not in rendered.html
    assert "word399" not in renderer.slack_alert(change(evidence(quote=words)))


def test_a_quote_that_opens_with_a_quotation_gets_one_pair_of_marks(
    renderer: Renderer,
) -> None:
    statement = (
        '"The withdrawal of United States forces from Niger has been completed," '
        "a joint statement said."
    )
    source = evidence(quote=statement)
    rendered = renderer.alert(change(source))
    assert '""' not in rendered.text
    assert "\"'The withdrawal of United States forces from Niger has been" in rendered.text
    cleaned = digest(change(source))
    cleaned = replace(cleaned, facts=(replace(cleaned.facts[0], source=source),))
    assert '""' not in renderer.digest(cleaned).text


def test_subject_is_stable_and_one_line() -> None:
    first = change(evidence())
    later = change(evidence(quote="Other words.", url="https://news-c.example/x"))
    assert alert_subject(first) == alert_subject(later)
    assert alert_subject(change(old=None)) == "[watcher] Air Base 201 status: unknown → handed over"
    assert "\n" not in alert_subject(change(label="Air Base\r\n201 status"))
    assert len(alert_subject(change(new="x" * 1000))) <= 200
    assert thread_topic("Air Base 201 status") == "[watcher] Air Base 201 status"


def test_a_story_is_named_only_when_the_config_follows_several(renderer: Renderer) -> None:
    """With one story every message is as it always was; with several, each names its
    own (its title from the topic, and its name), and a title is text like any other."""
    plain = change()
    in_story = replace(plain, story="niger", story_title="US forces leave Niger")
    assert renderer.alert(in_story) == renderer.alert(plain)
    assert renderer.slack_alert(in_story) == renderer.slack_alert(plain)
    story_digest = replace(digest(in_story), story="niger", story_title="US forces leave Niger")
    assert renderer.digest(story_digest) == renderer.digest(digest(plain))
    assert renderer.slack_digest(story_digest) == renderer.slack_digest(digest(plain))

    several = load_templates(with_story=True)
    named = several.alert(in_story)
    assert named.subject == (
        "[watcher] US forces leave Niger — Air Base 201 status: operating → handed over"
    )
    assert named.text.startswith("Story: US forces leave Niger (niger)\n\nAir Base 201 status:")
    assert "Story: <strong>US forces leave Niger</strong> (niger)</p>" in named.html
    assert several.slack_alert(in_story).startswith(
        "US forces leave Niger — Air Base 201 status: operating → handed over"
    )
    assert several.digest(story_digest).text.startswith(
        "Daily digest: US forces in Niger\nStory: US forces leave Niger (niger)\n"
    )
    assert thread_topic("Air Base 201 status", several.story_of(in_story)) == (
        "[watcher] US forces leave Niger — Air Base 201 status"
    )
    # A source's health is no story's; an alert queued before titles were kept
    # names its story by name.
    assert several.alert(plain) == renderer.alert(plain)
    untitled = several.alert(replace(in_story, story_title=None))
    assert untitled.subject.startswith("[watcher] niger — ")
    assert untitled.text.startswith("Story: niger\n")
    hostile = several.alert(replace(in_story, story_title=HOSTILE))
    assert "<script>" not in hostile.html and "\x1b" not in hostile.text + hostile.subject
    assert "<!channel>" not in several.slack_alert(replace(in_story, story_title=HOSTILE))


def test_digest_shows_changes_current_facts_and_outlook(renderer: Renderer) -> None:
    outlook = ("34 days left to the withdrawal deadline (2024-09-15)",)
    rendered = renderer.digest(digest(change(), outlook=outlook))

    assert rendered.subject == "[watcher] Daily digest: US forces in Niger"
    for part in (rendered.text, rendered.html):
        assert "2024-08-11 08:00 – 2024-08-12 08:00 CEST" in part
        assert "handed over" in part and "Air Base 201 status" in part
        assert re.search(r"Withdrawal deadline(</strong>)?: 2024-09-15", part)
        assert "Pentagon confirms the deadline" in part
        assert re.search(r"US troops in Niger(</strong>)?: unknown", part)
        assert outlook[0] in part
    assert '<a href="https://news-b.example/deadline">' in rendered.html


def test_digest_without_changes_says_so(renderer: Renderer) -> None:
    rendered = renderer.digest(digest())
    assert "No fact changed in this period." in rendered.text
    assert "No fact changed in this period." in rendered.html
    assert "Coming up" not in rendered.html


def test_slack_text_escapes_every_value_but_keeps_template_markup(
    renderer: Renderer, tmp_path: Path
) -> None:
    text = renderer.slack_alert(change(evidence(quote=HOSTILE)))
    assert "<!channel>" not in text and "<@U123>" not in text and "<http://evil" not in text
    assert "&lt;!channel&gt;" in text and "Tom &amp; Jerry" in text

    (tmp_path / "slack_alert.j2").write_text("*{{ change.new }}* <!here>\n")
    custom = load_templates(tmp_path).slack_alert(change(new="<!channel> & co"))
    assert custom == "*&lt;!channel&gt; &amp; co* <!here>"


def test_user_template_overrides_the_shipped_one_file_by_file(
    renderer: Renderer, tmp_path: Path
) -> None:
    (tmp_path / "alert.txt.j2").write_text("{{ change.label }} is now {{ change.new }}\n")
    custom = load_templates(tmp_path)

    rendered = custom.alert(change())
    assert rendered.text == "Air Base 201 status is now handed over\n"
    assert rendered.html == renderer.alert(change()).html


@pytest.mark.parametrize(
    ("body", "line", "problem"),
    [
        ("<p>\n{{ change.label }\n</p>\n", 2, "unexpected '}'"),
        ("<p>\n{% for s in change.sources %}\n{{ s.quote }}\n", 3, "end of template"),
        ("<p>\n</p>\n{{ change.lable }}\n", 3, "has no attribute 'lable'"),
        ("{{ changes }}\n", 1, "'changes' is undefined"),
    ],
)
def test_broken_user_template_fails_at_load_with_file_and_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, line: int, problem: str
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mytemplates").mkdir()
    Path("mytemplates/alert.html.j2").write_text(body)

    with pytest.raises(TemplateError) as caught:
        load_templates(Path("mytemplates"))
    message = str(caught.value)
    assert message.startswith(f"mytemplates/alert.html.j2:{line}: ")
    assert problem in message and "\n" not in message


def test_broken_partial_is_reported_under_its_own_name(tmp_path: Path) -> None:
    (tmp_path / "_change.txt.j2").write_text("ok\n{{ change.sources[0].quote | nope }}\n")
    with pytest.raises(TemplateError, match=r"_change\.txt\.j2:2: .*nope"):
        load_templates(tmp_path)


def test_missing_user_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="templates folder not found"):
        load_templates(tmp_path / "absent")
