"""The arguments of ``watcher`` and of each of its commands.

Building the parser imports nothing of the library: each command names its
handler as ``"module.function"`` in :mod:`watcher.cli`, imported by
:func:`watcher.cli.main.main` once the arguments are known, so that a command
loads only what it uses.
"""

from __future__ import annotations

import argparse
from datetime import date
from enum import StrEnum
from typing import Any

from watcher import __version__

# watcher.facts.corpus.Split's values (a test keeps them the same), written out so
# that building the parser imports nothing of the library.
EVAL_SPLITS = ("dev", "test")


class ExitOn(StrEnum):
    """What makes ``watcher check`` exit 1."""

    ANYTHING = "anything"  # new articles or fact changes, like diff
    CHANGES = "changes"  # fact changes only: first reported or confirmed in this pass


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    # --config and -v are global: accepted before the command (``watcher --config X
    # check``) and after it. After it, an option not given must not overwrite the
    # value given before, hence SUPPRESS as the default there.
    config_options = argparse.ArgumentParser(add_help=False)
    _add_config_option(config_options, default=argparse.SUPPRESS)
    verbose_option = argparse.ArgumentParser(add_help=False)
    _add_verbose_option(verbose_option, default=argparse.SUPPRESS)
    json_option = argparse.ArgumentParser(add_help=False)
    json_option.add_argument("--json", action="store_true", help="print JSON instead of text")
    # Commands that read a config and report; run reports nothing, demo has its own config.
    common = [config_options, verbose_option, json_option]

    parser = argparse.ArgumentParser(
        prog="watcher",
        description="Watch news feeds about a developing story and report when a fact "
        "changes, with the quote and the link that show it.",
        epilog="Try `watcher demo` for an offline run against bundled sample feeds.",
    )
    parser.add_argument("--version", action="version", version=f"watcher {__version__}")
    _add_config_option(parser, default=None)
    _add_verbose_option(parser, default=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    check = commands.add_parser(
        "check",
        parents=common,
        help="poll every enabled source once and report what is new",
        description="Poll every enabled source once: fetch new feed items, extract their "
        "articles, store them, and report. Then do what the daemon does on its schedule: "
        "queue each channel's digest once its time has come (up to 6 hours late) and "
        "prune old articles once a day. Exit status: 0 nothing new, 1 something new "
        "(see --exit-on), 2 error (bad config, or every source failed).",
    )
    check.add_argument(
        "--exit-on",
        choices=[e.value for e in ExitOn],
        default=ExitOn.ANYTHING.value,
        help="what exits 1: anything new (new articles or fact changes; the default) or "
        "changes (a fact change first reported or confirmed in this pass)",
    )
    check.add_argument(
        "--no-send",
        action="store_true",
        help="queue alerts in the outbox but send nothing now (the daemon or "
        "`watcher outbox retry` sends them later)",
    )
    check.add_argument(
        "--source",
        action="append",
        metavar="NAME",
        help="poll only this source (disabled ones too); may be given more than once",
    )
    check.set_defaults(handler="check.cmd_check", needs_config=True)

    baseline = commands.add_parser(
        "baseline",
        parents=common,
        help="show the baseline: the facts of the seed articles, and pinned values",
        description="Run fact extraction over the seed articles and show the baseline every "
        "later article is compared with: each fact's value, its sources with their quotes, "
        "and readings that disagree. Values pinned in config ([facts.pins]) override "
        "derived ones and are marked as pinned.",
    )
    baseline.add_argument("--story", metavar="NAME", help="only this story (default: every one)")
    baseline.set_defaults(handler="facts.cmd_baseline", needs_config=False)

    facts = commands.add_parser(
        "facts",
        parents=common,
        usage="watcher facts [KEY] [--story NAME]\n"
        "       watcher facts reject CHANGE_ID [--why TEXT]\n"
        "       watcher facts set KEY VALUE [--as-of DATE] [--qualifier Q] [--why TEXT]\n"
        "       watcher facts undo CORRECTION_ID",
        help="show what is known now, fact by fact; reject a change, set a value, undo",
        description="Show current knowledge from the state database: each fact's value, "
        "where it comes from (seeds, pinned, set by a person, observed), its sources with "
        "quotes, open disagreements, the values it had before, and the corrections made. "
        "`facts reject CHANGE_ID` marks a change read wrongly: its readings stop counting, "
        "the fact is worked out again without them, its alerts not yet sent are cancelled "
        "and the channels that heard it get one correction notice. `facts set KEY VALUE` "
        "records a value a person knows; it holds from --as-of (default today) until a "
        "later article reports a further change. `facts undo CORRECTION_ID` takes either "
        "back. Each is kept with who made it, why and when.",
    )
    facts.add_argument(
        "words",
        nargs="*",
        metavar="KEY | reject CHANGE_ID | set KEY VALUE | undo CORRECTION_ID",
        help="a fact key (e.g. bases.air_base_201.status), or a correction",
    )
    facts.add_argument("--story", metavar="NAME", help="only this story (default: every one)")
    facts.add_argument("--why", metavar="TEXT", help="with set or reject: the reason, kept")
    facts.add_argument(
        "--as-of",
        type=_date,
        metavar="YYYY-MM-DD",
        help="with set: the day the value holds from (default: today)",
    )
    facts.add_argument(
        "--qualifier",
        metavar="Q",
        help="with set: exact, about, more_than or fewer_than for a count; exact, early, "
        "mid, late or month for a date",
    )
    facts.add_argument(
        "--no-send",
        action="store_true",
        help="with reject: queue the correction notices without sending them now",
    )
    facts.set_defaults(handler="facts.cmd_facts", needs_config=True)

    evaluation = commands.add_parser(
        "eval",
        parents=common,
        help="score fact extraction against labelled articles",
        description="Read every labelled article in FOLDER, extract its facts and print "
        "precision and recall, and the facts wrongly found in off-topic articles. FOLDER "
        "is either a labelled set (FOLDER/labels.toml beside the texts, read with the "
        "config's topic; see tests/factset) or the real-article corpus (FOLDER/labels/ "
        "and FOLDER/topics/ per story; see corpus/README.md), scored per fact type and "
        "per story.",
    )
    evaluation.add_argument("folder", metavar="FOLDER")
    evaluation.add_argument(
        "--split",
        choices=EVAL_SPLITS,
        help="corpus only: the dev half (rules may be tuned on it) or the test half",
    )
    evaluation.add_argument(
        "--mistakes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="list every missed and wrong fact after the tables (default: yes)",
    )
    evaluation.set_defaults(handler="facts.cmd_eval", needs_config=False)

    outbox = commands.add_parser(
        "outbox",
        parents=common,
        help="list alerts waiting or failed; `retry` sends them again",
        description="List alerts that are pending, failed for good, or uncertain (the "
        "sender stopped between sending and recording, so they may have arrived). "
        "`watcher outbox retry [ID ...]` sends them now: failed and uncertain alerts "
        "start again, pending ones stop waiting out their backoff. An ID that is not "
        "in the outbox is an error (exit 2).",
    )
    outbox.add_argument("action", nargs="?", choices=["list", "retry"], default="list")
    outbox.add_argument("ids", nargs="*", type=int, metavar="ID", help="alerts to retry")
    outbox.set_defaults(handler="alerts.cmd_outbox", needs_config=True)

    digest = commands.add_parser(
        "digest",
        parents=common,
        help="preview the digest, or send it now",
        description="Build the digest for the period ending now: the period's fact "
        "changes, every tracked fact as it stands with the source it comes from, and the deadline "
        "countdown. --preview (the default) prints it; --send sends it to every channel "
        "(or --channel) now.",
    )
    action = digest.add_mutually_exclusive_group()
    action.add_argument("--preview", action="store_true", help="print it (default)")
    action.add_argument("--send", action="store_true", help="send it now")
    digest.add_argument("--channel", help="email, slack or apprise:NAME (default: all)")
    digest.add_argument(
        "--story", metavar="NAME", help="only this story's digest (default: every story's)"
    )
    digest.set_defaults(handler="alerts.cmd_digest", needs_config=True)

    notify = commands.add_parser(
        "notify",
        parents=common,
        help="`notify test`: send a test message to every channel",
        description="Send a test message to every configured channel and say which worked. "
        "Exit status 2 when any failed.",
    )
    notify.add_argument("action", choices=["test"])
    notify.set_defaults(handler="alerts.cmd_notify", needs_config=True)

    extract = commands.add_parser(
        "extract",
        parents=common,
        help="show the text and metadata extracted from one file or URL",
        description="Extract one article, from a local file (HTML or plain text) or a URL, "
        "and show its text, metadata and facts. Nothing is stored. A URL is fetched with "
        "the [http] settings of the config, or the defaults when there is none.",
    )
    extract.add_argument("target", metavar="FILE|URL")
    extract.add_argument(
        "--published",
        type=_date,
        metavar="YYYY-MM-DD",
        help="the article's publication date (dates in the text are read relative to it)",
    )
    extract.add_argument(
        "--explain",
        action="store_true",
        help="show, sentence by sentence, who it was judged to be about, which fact was read "
        "from which words, and why a sentence gave nothing (negation, doubt, a plan, another "
        "force or place)",
    )
    extract.add_argument(
        "--all",
        action="store_true",
        help="with --explain, show every sentence, also those that name nothing of the story",
    )
    extract.add_argument(
        "--topic",
        metavar="FILE|NAME",
        help="read the facts of this topic instead of the config's: a topic file, or the "
        "name of a shipped one (niger-us-withdrawal)",
    )
    extract.add_argument(
        "--allow-private-addresses",
        action="store_true",
        help="fetch the URL even from loopback or a private network, as "
        "http.allow_private_addresses = true does",
    )
    extract.set_defaults(handler="check.cmd_extract", needs_config=False)

    demo = commands.add_parser(
        "demo",
        parents=[verbose_option, json_option],
        help="run offline against bundled sample feeds served on 127.0.0.1",
        description="Serve the bundled sample feeds and articles on 127.0.0.1, run three "
        "checks against them with a throw-away state database, send each fact change to "
        "a Slack webhook served on 127.0.0.1, and write the alerts as email (text and "
        "HTML), the digest and the Atom feed to --output. With --serve, then serve the "
        "web view of that database (watcher serve) until Ctrl-C.",
    )
    demo.add_argument(
        "--output",
        metavar="DIR",
        default="demo-output",
        help="where to write the rendered alerts, digest and Atom feed (default: demo-output)",
    )
    demo.add_argument(
        "--serve",
        action="store_true",
        help="then serve the web view of the demo's database until Ctrl-C, and print its URL",
    )
    demo.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:0",
        help="where --serve listens (default: 127.0.0.1 on any free port)",
    )
    demo.set_defaults(handler="demo.cmd_demo", needs_config=False)

    story = commands.add_parser(
        "story",
        parents=common,
        usage="watcher story new NAME [--subject LABEL --subject-names A,B --place LABEL "
        "--place-names A,B ...]\n       watcher story check [NAME]",
        help="start a story (`story new NAME`), or check the config's stories",
        description="`story new NAME` writes stories/NAME/topic.toml (next to the config) "
        "and stories/NAME/seeds/manifest.toml from the flags, asking at a terminal for what "
        "is missing, and prints the [[stories]] block to add to the config. `story check "
        "[NAME]` reads each story's topic, seeds and pins and prints every problem, one "
        "line each (exit 1), or what the seeds give (exit 0).",
    )
    story.add_argument("action", choices=["new", "check"])
    story.add_argument("name", nargs="?", metavar="NAME")
    story.add_argument("--title", help="new: the story's title (default: 'X forces leave Y')")
    story.add_argument("--subject", metavar="LABEL", help="new: who leaves, e.g. US")
    story.add_argument(
        "--subject-names", metavar="A,B", help="new: names for them, e.g. 'US,American,Pentagon'"
    )
    story.add_argument("--place", metavar="LABEL", help="new: where from, e.g. Chad")
    story.add_argument(
        "--place-names", metavar="A,B", help='new: names for the place, e.g. "Chad,N\'Djamena"'
    )
    story.add_argument(
        "--host", metavar="A,B", help="new: names for the host's forces and leaders, e.g. Chadian"
    )
    story.add_argument(
        "--base",
        action="append",
        metavar="LABEL[=NAME,NAME]",
        help="new: a base or facility to track (repeat for several)",
    )
    story.add_argument(
        "--no-deadline",
        dest="deadline",
        action="store_false",
        help="new: there is no deadline to follow",
    )
    story.add_argument(
        "--since", type=_date, metavar="YYYY-MM-DD", help="new: older articles are not about it"
    )
    story.add_argument(
        "--dir", metavar="DIR", help="new: where to write it (default: stories/ by the config)"
    )
    story.set_defaults(handler="story.cmd_story", needs_config=False)

    run = commands.add_parser(
        "run",
        parents=[config_options, verbose_option],
        help="run as a daemon: poll each source on its own schedule",
        description="Run in the foreground, polling each enabled source at its interval "
        "(with jitter, never two polls of one source at once). Several workers may share "
        "one database: each source is polled by one of them per interval, each alert and "
        "digest sent once, and a worker that dies has its sources taken over after "
        "[daemon] lease. SIGTERM or SIGINT stops "
        "cleanly; SIGHUP reloads the config, keeping the old one if the new one is invalid. "
        "Under systemd (Type=notify) it reports readiness, status and watchdog pings.",
    )
    run.add_argument(
        "--log-format",
        choices=["auto", "text", "json"],
        default="auto",
        help="auto: journal-style under systemd, text with timestamps otherwise",
    )
    run.add_argument(
        "--name",
        metavar="NAME",
        help="this worker's name in `watcher status` (default: HOST:PID); "
        "the systemd unit watcher@.service gives HOST:INSTANCE",
    )
    run.set_defaults(handler="service.cmd_run", needs_config=True)

    gc = commands.add_parser(
        "gc",
        parents=common,
        help="prune article text older than state.retention",
        description="Delete article text, and sent digest and health alerts, older than "
        "state.retention (default 90 days). Facts, the observations they are folded from, "
        "changes and their quotes are kept, and so are seen feed items, so nothing is "
        "fetched again. The daemon does this once a day.",
    )
    gc.add_argument(
        "--vacuum", action="store_true", help="then compact the SQLite file (rewrites it)"
    )
    gc.set_defaults(handler="database.cmd_gc", needs_config=True)

    db = commands.add_parser(
        "db",
        parents=common,
        help="`db upgrade`: bring the state database's schema to this watcher's version",
        description="Upgrade the state database's schema to this watcher's version, from any "
        "earlier one (or create it in an empty database). An SQLite file is upgraded when "
        "watcher opens it; a PostgreSQL database shared by several workers only by this "
        "command, run once with the workers of the older watcher stopped, since they "
        "cannot use the new schema.",
    )
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(handler="database.cmd_db", needs_config=True)

    status = commands.add_parser(
        "status",
        parents=common,
        help="show each source's last poll, errors, and the daemon's schedule",
        description="Read the state database (safe while the daemon runs) and show, per "
        "source, the last attempt, last success, last error and items seen, and the "
        "daemon's last pass and next scheduled polls.",
    )
    status.set_defaults(handler="service.cmd_status", needs_config=True)

    serve = commands.add_parser(
        "serve",
        parents=[config_options, verbose_option],
        help="serve the read-only web view: the story, timelines, changes, sources, outbox",
        description="Serve the read-only web view of the state database: the story's facts "
        "with their sources, each fact's timeline, the changes with their evidence and "
        "alerts, the sources' health and the outbox; a JSON API under /api/ (the --json "
        "shapes) and Prometheus metrics at /metrics. Listens on --listen, else [web] listen, "
        "else 127.0.0.1:8080; an address other than loopback needs [web] token_env. "
        "SIGINT or SIGTERM stops it.",
    )
    serve.add_argument(
        "--listen",
        metavar="HOST:PORT",
        help="where to listen (default: [web] listen, else 127.0.0.1:8080; port 0: any free one)",
    )
    serve.set_defaults(handler="service.cmd_serve", needs_config=True)

    # The sources commands build their own parsers (and import what they use).
    from watcher.cli.sources import add_commands as add_source_commands

    add_source_commands(commands, common)
    return parser


def _add_config_option(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "--config",
        metavar="PATH",
        default=default,
        help="config file (default: $WATCHER_CONFIG, else config/watcher.toml, "
        "else the user's config directory)",
    )


def _add_verbose_option(parser: argparse.ArgumentParser, *, default: Any) -> None:
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log more detail to stderr",
    )
