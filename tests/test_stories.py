"""Several stories in one config: shared sources, facts read per story, channels per story.

The sources are real HTTP servers on loopback; the Niger story is the shipped
one, the Chad story is written here as a user would write it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.support.alerting import (
    PASSWORD_ENV,
    WEBHOOK_ENV,
    Inbox,
    Webhook,
    email_channel,
    free_port,
    slack_channel,
    smtp_server,
)
from tests.support.checks import HANDOVER, page
from tests.support.loopback import LoopbackServer
from tests.support.stories import CHAD_MANIFEST, CHAD_SEED, CHAD_TOPIC, write_chad
from watcher.cli.main import main
from watcher.config import ConfigError, load_config
from watcher.service import workers
from watcher.store import SCHEMA_VERSION, open_store

FIXTURES = Path(__file__).parent / "fixtures"
ATOM = "{http://www.w3.org/2005/Atom}"


CHAD_LEFT = (
    "Last US troops leave Chad",
    "2024-05-20",
    [
        "N'DJAMENA — The last US troops left Chad on Sunday, the Pentagon said, and the "
        "Adji Kossei air base was handed over to Chadian forces.",
        "The withdrawal of American forces from Chad has been completed, officials said.",
    ],
)
# One article about both stories: each reads its own facts from it.
BOTH = (
    "US forces finish leaving Niger and Chad",
    "2024-08-06",
    [
        "NIAMEY — The withdrawal of American forces from Niger has been completed, the "
        "Pentagon said, weeks before the September 15 deadline.",
        "The United States handed over Air Base 201 near Agadez to Niger's army.",
    ],
)


def two_story_config(
    tmp_path: Path, feed: str, *, smtp_port: int | None = None, extra: str = ""
) -> Path:
    """Niger (heard on Slack) and Chad (heard by email), both fed by one source."""
    write_chad(tmp_path)
    channels = ""
    if smtp_port is not None:
        email = email_channel(smtp_port)
        channels += "[notify.email]\n" + "".join(
            f"{k} = {json.dumps(v)}\n" for k, v in email.items()
        )
    slack = slack_channel()
    channels += "[notify.slack]\n" + "".join(f"{k} = {json.dumps(v)}\n" for k, v in slack.items())
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "state.db"\n'
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        "[articles]\nworkers = 1\n"
        "[notify]\nretry_backoff = 60\n"
        + channels
        + '\n[[stories]]\nname = "niger"\ntopic = "niger-us-withdrawal"\nchannels = ["slack"]\n'
        + '\n[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
        + ('channels = ["email"]\n' if smtp_port is not None else "")
        + extra
        # Items titled by their slug: every item is fetched (test_relevance.py has the
        # pre-filter with several stories).
        + f'\n[[sources]]\nname = "wire"\nurl = "{feed}"\nfetch = "all"\n'
    )
    return config


def publish(server: LoopbackServer, stories: dict[str, tuple[str, str, list[str]]]) -> str:
    items = ""
    for slug, story in stories.items():
        server.route(f"/a/{slug}.html", page(story))
        items += (
            f"<item><title>{slug}</title><link>{server.url(f'/a/{slug}.html')}</link>"
            f"<guid>{slug}</guid></item>"
        )
    return server.route(
        "/feed.xml",
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>{items}</channel></rss>',
    )


def check(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = main(["check", "--config", str(config), "--json"])
    assert code in (0, 1), capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def inbox() -> Any:
    mailbox = Inbox()
    mailbox.port = free_port()  # type: ignore[attr-defined]
    controller = smtp_server(mailbox, mailbox.port)  # type: ignore[attr-defined]
    yield mailbox
    controller.stop()


@pytest.fixture
def hook(monkeypatch: pytest.MonkeyPatch) -> Any:
    webhook = Webhook()
    monkeypatch.setenv(WEBHOOK_ENV, webhook.url)
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    yield webhook
    webhook.stop()


@pytest.mark.slow
def test_two_stories_share_a_source_each_article_read_once_each_channel_its_story(
    tmp_path: Path,
    server: LoopbackServer,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extracted: Counter[str] = Counter()
    real_extract = workers.extract_html

    def counting(content: bytes, url: str, **kwargs: Any) -> Any:
        extracted[url] += 1
        return real_extract(content, url, **kwargs)

    monkeypatch.setattr(workers, "extract_html", counting)
    feed = publish(server, {"niger": HANDOVER, "chad": CHAD_LEFT, "both": BOTH})
    config = two_story_config(tmp_path, feed, smtp_port=inbox.port)  # type: ignore[attr-defined]
    report = check(config, capsys)

    # One fetch and one extraction per article, whatever the number of stories.
    for slug in ("niger", "chad", "both"):
        assert server.hits(f"/a/{slug}.html") == 1
    assert sorted(extracted.values()) == [1, 1, 1]

    by_story: dict[str, set[str]] = {}
    for change in report["changes"]:
        by_story.setdefault(change["story"], set()).add(change["key"])
    assert by_story["chad"] >= {
        "bases.adji_kossei.status",
        "us_forces.withdrawal_status",
    }
    assert by_story["niger"] >= {"bases.air_base_201.status", "us_forces.withdrawal_status"}
    # The article about both moved each story's own facts: Niger's withdrawal is
    # completed by it, Chad's by its own article.
    niger_sources = {
        e["url"]
        for c in report["changes"]
        if c["story"] == "niger" and c["key"] == "us_forces.withdrawal_status"
        for e in c["evidence"]
    }
    assert server.url("/a/both.html") in niger_sources

    # Slack hears Niger only; email hears Chad only.
    slack_text = " ".join(p["text"] for p in hook.delivered)
    assert "Air Base 201" in slack_text and "Adji Kossei" not in slack_text
    subjects = [m["Subject"] for m in inbox.messages()]
    assert subjects and all("Air Base 201" not in s for s in subjects)
    assert any("Adji Kossei" in s for s in subjects)
    for change in report["changes"]:
        channels = set(change["alerts"])
        assert channels <= ({"slack"} if change["story"] == "niger" else {"email"})

    # facts --story shows one story, each fact and change with its story.
    assert main(["facts", "--config", str(config), "--story", "chad", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["topic"] == "chad"
    assert {f["story"] for f in document["facts"]} == {"chad"}
    assert {c["story"] for c in document["changes"]} == {"chad"}
    facts = {f["key"]: f for f in document["facts"]}
    assert facts["bases.adji_kossei.status"]["value"] == "handed_over"
    assert main(["facts", "--config", str(config), "--json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert everything["topic"] is None
    assert [s["name"] for s in everything["stories"]] == ["niger", "chad"]
    assert {f["story"] for f in everything["facts"]} == {"niger", "chad"}

    # The same key in two stories is two facts: Chad's withdrawal is not Niger's.
    status = {
        (f["story"], f["key"]): f["value"]
        for f in everything["facts"]
        if f["key"] == "us_forces.troop_count"
    }
    assert status[("chad", "us_forces.troop_count")] != 1000


@pytest.mark.slow
def test_a_digest_per_story_to_the_channels_that_hear_it(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = publish(server, {"niger": HANDOVER, "chad": CHAD_LEFT})
    config = two_story_config(tmp_path, feed)
    check(config, capsys)
    assert main(["digest", "--config", str(config), "--story", "chad", "--json"]) == 0
    [chad] = json.loads(capsys.readouterr().out)["digests"]
    assert chad["story"] == "chad" and chad["title"].startswith("US forces leave Chad")
    assert {c["story"] for c in chad["changes"]} == {"chad"}
    assert main(["digest", "--config", str(config), "--send"]) == 0
    capsys.readouterr()
    # Slack hears both stories (no channels given for Chad here): one digest each.
    titles = sorted(p["text"].split(" (")[0] for p in hook.delivered if "digest" in p["text"])
    assert titles[0].startswith("US forces leave Chad") and titles[1].startswith(
        "US forces leave Niger"
    )


def test_a_schema_2_database_is_upgraded_and_adopted_by_the_first_story(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database watcher left at schema 2 (the demo's first pass) opens, is upgraded, and
    what it knew is the first story's: the same facts and changes, nothing alerted again."""
    database = tmp_path / "state.db"
    with sqlite3.connect(database) as conn:
        conn.executescript((FIXTURES / "schema-2.sql").read_text())
        before_knowledge = dict(conn.execute("SELECT key, data FROM knowledge").fetchall())
        before_changes = conn.execute("SELECT id, identity, status FROM changes").fetchall()
        alerts_before = conn.execute("SELECT count(*) FROM alerts").fetchone()[0]
    config = tmp_path / "watcher.toml"
    config.write_text('[state]\npath = "state.db"\n')
    store = open_store(load_config(config).database_url())
    assert store.schema_version() == SCHEMA_VERSION
    store.close()
    assert main(["facts", "--config", str(config), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["topic"] == "niger-us-withdrawal"
    known = {f["key"]: f for f in document["facts"]}
    for key, data in before_knowledge.items():
        old = json.loads(data)
        assert (known[key]["value"], known[key]["origin"]) == (old["value"], old["origin"])
        assert known[key]["story"] == "niger-us-withdrawal"
    changes = {c["change_id"]: c for c in document["changes"]}
    assert {i for i, _, s in before_changes if s != "superseded"} == set(changes)
    assert {c["story"] for c in changes.values()} == {"niger-us-withdrawal"}
    with sqlite3.connect(database) as conn:
        identities = dict(conn.execute("SELECT id, identity FROM changes").fetchall())
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == alerts_before
        stories = {r[0] for r in conn.execute("SELECT story FROM observations")}
        folds = [k for (k,) in conn.execute("SELECT key FROM meta WHERE key LIKE 'fold:%'")]
    for change_id, identity, _ in before_changes:
        assert identities[change_id] == f"niger-us-withdrawal|{identity}"
    assert stories == {"niger-us-withdrawal"}
    assert folds and all(k.startswith("fold:niger-us-withdrawal:") for k in folds)


def test_two_stories_seeing_the_same_change_are_two_atom_entries(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two desks follow one topic: each change is theirs twice, and the Atom feed of
    both has an entry for each, with an id of its own (a reader would merge equal ids)."""
    from xml.etree import ElementTree

    feed = publish(server, {"niger": HANDOVER})
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[state]\npath = "state.db"\n'
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0\n"
        '[notify]\natom = "changes.atom"\n'
        '[[stories]]\nname = "niger"\ntopic = "niger-us-withdrawal"\n'
        '[[stories]]\nname = "niger-desk"\ntopic = "niger-us-withdrawal"\n'
        f'[[sources]]\nname = "wire"\nurl = "{feed}"\nfetch = "all"\n'
    )
    report = check(config, capsys)
    seen: dict[tuple[str, str, str], set[str]] = {}
    for c in report["changes"]:
        seen.setdefault((c["key"], c["old"], c["new"]), set()).add(c["story"])
    assert seen and all(stories == {"niger", "niger-desk"} for stories in seen.values())
    root = ElementTree.parse(tmp_path / "changes.atom").getroot()
    ids = [entry.findtext(f"{ATOM}id") for entry in root.findall(f"{ATOM}entry")]
    assert len(ids) == len(report["changes"]) == 2 * len(seen)
    assert len(set(ids)) == len(ids)


def test_several_stories_means_more_than_one(tmp_path: Path) -> None:
    """Messages name their story only when there is more than one to tell apart."""
    write_chad(tmp_path)
    config = tmp_path / "watcher.toml"
    chad = '[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
    niger = '[[stories]]\nname = "niger"\ntopic = "niger-us-withdrawal"\n'
    for text, several in (("", False), (chad, False), (chad + niger, True)):
        config.write_text(text)
        assert load_config(config).several_stories is several


def test_stories_and_a_topic_together_is_one_line(tmp_path: Path) -> None:
    write_chad(tmp_path)
    config = tmp_path / "watcher.toml"
    config.write_text(
        'topic = "niger-us-withdrawal"\n[[stories]]\nname = "chad"\n'
        'topic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
    )
    with pytest.raises(ConfigError, match=r"topic: with \[\[stories\]\], give each story its own"):
        load_config(config)
    config.write_text(
        '[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
        'channels = ["pager"]\n'
    )
    with pytest.raises(ConfigError, match=r"no channel named 'pager'"):
        load_config(config)


def test_a_story_without_seeds_is_an_error_naming_it(tmp_path: Path) -> None:
    """The friction a new user met: a custom topic silently took the Niger seeds."""
    write_chad(tmp_path)
    config = tmp_path / "watcher.toml"
    config.write_text('[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\n')
    with pytest.raises(ConfigError, match=r"story 'chad': no seeds folder given"):
        load_config(config)
    config.write_text('topic = "chad/topic.toml"\n')
    with pytest.raises(ConfigError, match=r"facts.seeds: topic 'chad/topic.toml' needs its own"):
        load_config(config)
    config.write_text('[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "nowhere"\n')
    with pytest.raises(ConfigError, match=r"stories\[0\] \('chad'\)\.seeds: no manifest.toml"):
        load_config(config)


def test_seeds_may_be_html_files_and_urls_fetched_once(
    tmp_path: Path, server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_chad(tmp_path)
    seeds = tmp_path / "chad" / "seeds"
    (seeds / "base.html").write_text(
        page(
            (
                "Chad letter on US base",
                "2024-04-19",
                ["Most of the US troops in Chad are based at the Adji Kossei air base."],
            )
        )
    )
    url = server.route("/seed.html", page(("US to leave Chad", "2024-04-25", [CHAD_SEED])))
    (seeds / "manifest.toml").write_text(
        f'[[seed]]\nfile = "base.html"\n\n[[seed]]\nurl = "{url}"\n'
    )
    config = tmp_path / "watcher.toml"
    config.write_text(
        "[http]\nallow_private_addresses = true\n"
        '[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
    )
    for _ in range(2):
        assert main(["baseline", "--config", str(config), "--json"]) == 0
        facts = {f["key"]: f for f in json.loads(capsys.readouterr().out)["facts"]}
        assert facts["us_forces.troop_count"]["value"] == 100
        # The HTML file's own date stands in for the manifest's.
        base = facts["bases.adji_kossei.status"]["sources"]
        assert ("seed:base", "2024-04-19") in {(s["url"], s["published"]) for s in base}
        assert url in {s["url"] for s in facts["us_forces.troop_count"]["sources"]}
    assert server.hits("/seed.html") == 1  # fetched once, then kept


def test_story_check_lists_every_problem_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_chad(tmp_path)
    (tmp_path / "chad" / "topic.toml").write_text(
        CHAD_TOPIC.replace('host = ["Chadian", "Deby"]', 'host = ["Chadian", "US"]')
        + '\n[[bases]]\nid = "kossei_two"\nlabel = "Kossei again"\nnames = ["Adji Kossei"]\n'
        'near = ["Abeche"]\n'
        '\n[[bases]]\nid = "empty"\nlabel = "No names"\nnames = []\n'
        '\n[[agreements]]\nid = "sofa"\nlabel = "SOFA"\nnames = ["SOFA"]\ncolour = 1\n'
    )
    (tmp_path / "chad" / "seeds" / "manifest.toml").write_text(
        CHAD_MANIFEST.replace("published = 2024-04-25\n", "")
    )
    config = tmp_path / "watcher.toml"
    config.write_text(
        '[[stories]]\nname = "chad"\ntopic = "chad/topic.toml"\nseeds = "chad/seeds"\n'
        '[[stories]]\nname = "mali"\ntopic = "chad/topic.toml"\nseeds = "mali/seeds"\n'
    )
    assert main(["story", "check", "--config", str(config)]) == 1
    lines = capsys.readouterr().out.splitlines()
    wanted = [
        "chad: ",
        "bases[2] (empty).names: List should have at least 1 item",
        "agreements[0] (sofa).colour: unknown key",
        "mali: ",
        "mali/seeds: seeds folder not found",
    ]
    assert all(any(w in line for line in lines) for w in wanted), lines
    text = "\n".join(lines)
    # The schema's problems come first; what it cannot see shows once they are fixed.
    (tmp_path / "chad" / "topic.toml").write_text(
        CHAD_TOPIC.replace('host = ["Chadian", "Deby"]', 'host = ["Chadian", "US"]')
        + '\n[[bases]]\nid = "kossei_two"\nlabel = "Kossei again"\nnames = ["Adji Kossei"]\n'
        'near = ["Abeche"]\n'
    )
    assert main(["story", "check", "chad", "--config", str(config)]) == 1
    lines = capsys.readouterr().out.splitlines()
    for wanted_line in (
        "place.host: 'US' is also a name of subject",
        "bases[1] (kossei_two).names: 'Adji Kossei' is also a name of bases[0] (adji_kossei)",
        "bases[1] (kossei_two).near: 'Abeche' names no place of the story",
        "seed[0] (us-to-leave-chad.txt): no published date",
    ):
        assert any(wanted_line in line for line in lines), (wanted_line, lines)
    assert (
        all(line.startswith("chad: ") for line in lines) and "mali" not in text.split("mali: ")[0]
    )


@pytest.mark.slow
def test_web_view_shows_one_story_at_a_time_with_a_selector(
    tmp_path: Path, server: LoopbackServer, hook: Webhook, capsys: pytest.CaptureFixture[str]
) -> None:
    import httpx

    from watcher.facts.stories import load_stories
    from watcher.web.server import start_web

    feed = publish(server, {"niger": HANDOVER, "chad": CHAD_LEFT})
    config_path = two_story_config(tmp_path, feed)
    check(config_path, capsys)
    config = load_config(config_path)
    store = open_store(config.database_url())
    web = start_web(config, store, load_stories(config), listen="127.0.0.1:0", environ={})
    try:
        first = httpx.get(web.url, timeout=10).text
        assert "Air Base 201" in first and "Adji Kossei" not in first.split("</header>")[1]
        assert 'href="/?story=chad"' in first and 'aria-current="true"' in first
        chad = httpx.get(web.url + "?story=chad", timeout=10).text
        assert "Adji Kossei air base" in chad and "Air Base 201" not in chad
        assert 'href="/facts/bases.adji_kossei.status?story=chad"' in chad
        timeline = httpx.get(web.url + "facts/bases.adji_kossei.status?story=chad", timeout=10)
        assert timeline.status_code == 200
        assert httpx.get(web.url + "?story=nope", timeout=10).status_code == 404
        api = httpx.get(web.url + "api/facts?story=chad", timeout=10).json()
        assert api["topic"] == "chad" and {f["story"] for f in api["facts"]} == {"chad"}
        both = httpx.get(web.url + "api/facts", timeout=10).json()
        assert {f["story"] for f in both["facts"]} == {"niger", "chad"}
        assert httpx.get(web.url + "api/facts?story=nope", timeout=10).status_code == 404
        changes = httpx.get(web.url + "api/changes?story=chad", timeout=10).json()["changes"]
        assert changes and {c["story"] for c in changes} == {"chad"}
    finally:
        web.stop()
        store.close()


@pytest.mark.slow
def test_one_daemon_follows_two_stories_from_shared_sources(
    tmp_path: Path,
    server: LoopbackServer,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`watcher run`, a real process: each article fetched once however many stories read it,
    Niger's changes on Slack only, Chad's by email only; the same after a restart."""
    import signal
    import subprocess
    import sys

    from tests.support.daemon import wait_for

    feed = publish(server, {"niger": HANDOVER, "chad": CHAD_LEFT, "both": BOTH})
    config = two_story_config(tmp_path, feed, smtp_port=inbox.port)  # type: ignore[attr-defined]
    config.write_text(config.read_text().replace('url = "', 'interval = "2s"\nurl = "', 1))

    def daemon() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "watcher", "run", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / "daemon.log").open("a"),
        )

    process = daemon()
    try:
        wait_for(lambda: hook.delivered and inbox.messages(), 30, "alerts on both channels")
        wait_for(lambda: server.hits("/feed.xml") >= 3, 15, "two more polls")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, (tmp_path / "daemon.log").read_text()
    slack, mails = len(hook.delivered), len(inbox.messages())
    process = daemon()
    try:
        wait_for(lambda: server.hits("/feed.xml") >= 5, 20, "polls after the restart")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    for slug in ("niger", "chad", "both"):
        assert server.hits(f"/a/{slug}.html") == 1
    assert (len(hook.delivered), len(inbox.messages())) == (slack, mails)
    slack_text = " ".join(p["text"] for p in hook.delivered)
    assert "Air Base 201" in slack_text and "Adji Kossei" not in slack_text
    subjects = " ".join(str(m["Subject"]) for m in inbox.messages())
    assert "Adji Kossei" in subjects and "Air Base 201" not in subjects


CHAD_STORY = "Story: US forces leave Chad (chad)"
CHAD_STORY_HTML = "Story: <strong>US forces leave Chad</strong> (chad)</p>"
NIGER_STORY_BLOCK = {
    "type": "context",
    "elements": [
        {"type": "mrkdwn", "text": "Story: *US forces leave Niger* (niger)", "verbatim": True}
    ],
}


def bodies(mail: Any) -> tuple[list[str], str]:
    """A message's plain text, as lines, and its HTML."""
    text = mail.get_body(("plain",)).get_content()
    return text.splitlines(), mail.get_body(("html",)).get_content()


def test_with_several_stories_every_message_names_its_story(
    tmp_path: Path,
    server: LoopbackServer,
    inbox: Inbox,
    hook: Webhook,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Email (subject, text, HTML), Slack (text, blocks), digests and correction notices
    say which story they belong to."""
    feed = publish(server, {"niger": HANDOVER, "chad": CHAD_LEFT, "both": BOTH})
    config = two_story_config(tmp_path, feed, smtp_port=inbox.port)  # type: ignore[attr-defined]
    report = check(config, capsys)

    # Email hears Chad: the subject, the thread's topic and a header to filter on name
    # the story, and so do the first lines of the text and the HTML.
    alerts = inbox.messages()
    assert alerts
    for mail in alerts:
        assert str(mail["Subject"]).startswith("[watcher] US forces leave Chad — ")
        assert str(mail["Thread-Topic"]).startswith("[watcher] US forces leave Chad — ")
        assert mail["X-Watcher-Story"] == "chad"
        lines, html = bodies(mail)
        assert lines[:2] == [CHAD_STORY, ""]
        assert CHAD_STORY_HTML in html
    # Slack hears Niger: the text's first line, and a line under the header.
    assert hook.delivered
    for post in hook.delivered:
        assert post["text"].startswith("US forces leave Niger — ")
        assert post["blocks"][1] == NIGER_STORY_BLOCK

    # Digests: each channel's digest of its story says which.
    delivered = len(hook.delivered)
    assert main(["digest", "--config", str(config), "--send"]) == 0
    capsys.readouterr()
    [digest] = inbox.messages()[len(alerts) :]
    assert str(digest["Subject"]).startswith("[watcher] US forces leave Chad: daily digest")
    lines, html = bodies(digest)
    assert CHAD_STORY in lines[:3] and CHAD_STORY_HTML in html
    [slack_digest] = hook.delivered[delivered:]
    assert slack_digest["blocks"][1] == NIGER_STORY_BLOCK

    # A correction notice names the story of the change it takes back.
    [handed_over] = [
        c
        for c in report["changes"]
        if (c["story"], c["key"]) == ("chad", "bases.adji_kossei.status")
    ]
    rejected = ["facts", "reject", str(handed_over["change_id"]), "--config", str(config)]
    assert main([*rejected, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["notices"] == ["email"]
    [notice] = inbox.messages()[len(alerts) + 1 :]
    assert str(notice["Subject"]).startswith("[watcher] US forces leave Chad — Correction: ")
    lines, html = bodies(notice)
    assert lines[:2] == [CHAD_STORY, ""] and CHAD_STORY_HTML in html
