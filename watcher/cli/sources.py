"""``watcher sources ...`` and ``watcher articles ...``: the sources in the config file,
what a URL would give as a source, OPML in and out, and articles given up on."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from watcher.config import (
    Config,
    ConfigError,
    Source,
    SourceKind,
    check_http_url,
    find_config,
    load_config,
)
from watcher.terminal import safe

if TYPE_CHECKING:
    # Imported by the commands that use them: every `watcher` command builds these
    # parsers, and most never edit the config, poll a URL or read OPML.
    from watcher.config_edit import ConfigEditor
    from watcher.ingest.poll import Polled

EXIT_OK, EXIT_ERROR = 0, 2
# Items `watcher sources test` shows.
SHOWN_ITEMS = 10


class SourcesError(Exception):
    """A ``sources`` or ``articles`` command that cannot go on; ``str()`` is one line."""


def _print_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, ensure_ascii=False, default=str)
    out.write("\n")


def _editor(args: argparse.Namespace) -> ConfigEditor:
    from watcher.config_edit import ConfigEditor

    return ConfigEditor(find_config(args.config))


def _reload_hint(out: TextIO, path: Path) -> None:
    out.write(f"{path}: saved; a running daemon takes it up on reload (SIGHUP)\n")


# -- list, add, remove, enable, disable ------------------------------------------------


def _source_json(source: Source) -> dict[str, Any]:
    return {
        "name": source.name,
        "url": source.url,
        "kind": str(source.kind),
        "interval": source.interval,
        "enabled": source.enabled,
    }


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    config = load_config(args.config)
    if args.json:
        _print_json({"sources": [_source_json(s) for s in config.sources]}, out)
        return EXIT_OK
    if not config.sources:
        out.write(f"{config.path}: no sources\n")
    for source in config.sources:
        state = "" if source.enabled else "  (disabled)"
        out.write(
            f"{safe(source.name):<24} {source.kind:<8} every {source.interval:g}s  "
            f"{safe(source.url)}{state}\n"
        )
    return EXIT_OK


def cmd_add(args: argparse.Namespace, out: TextIO) -> int:
    from watcher.config_edit import name_for

    try:
        check_http_url(args.url)
    except ValueError as exc:
        raise SourcesError(f"{args.url}: {exc}") from None
    editor = _editor(args)
    name = args.name or editor.free_name(name_for(urlsplit(args.url).hostname or args.url))
    editor.add(name, args.url, kind=args.kind, interval=args.interval)
    editor.save()
    if args.json:
        _print_json({"added": name}, out)
    else:
        out.write(f"added source {name!r}: {safe(args.url)}\n")
        _reload_hint(out, editor.path)
    return EXIT_OK


def cmd_remove(args: argparse.Namespace, out: TextIO) -> int:
    editor = _editor(args)
    editor.remove(args.name)
    editor.save()
    if args.json:
        _print_json({"removed": args.name}, out)
    else:
        out.write(f"removed source {args.name!r}\n")
        _reload_hint(out, editor.path)
    return EXIT_OK


def cmd_enable(args: argparse.Namespace, out: TextIO) -> int:
    enabled = args.action == "enable"
    editor = _editor(args)
    editor.set_enabled(args.name, enabled)
    editor.save()
    if args.json:
        _print_json({"name": args.name, "enabled": enabled}, out)
    else:
        out.write(f"{'enabled' if enabled else 'disabled'} source {args.name!r}\n")
        _reload_hint(out, editor.path)
    return EXIT_OK


# -- test ----------------------------------------------------------------------------


def _optional_config(path: str | None) -> Config:
    try:
        return load_config(path)
    except ConfigError:
        if path:
            raise
        return Config()


def _tested_source(target: str, kind: SourceKind | None, config: Config) -> Source:
    """A configured source by name, or a source made for a URL."""
    for source in config.sources:
        if source.name == target:
            return source if kind is None else source.model_copy(update={"kind": kind})
    try:
        check_http_url(target)
    except ValueError:
        names = ", ".join(s.name for s in config.sources) or "none configured"
        raise SourcesError(
            f"{target}: neither an http(s) URL nor a configured source ({names})"
        ) from None
    return Source(name="test", url=target, kind=kind or SourceKind.AUTO)


def cmd_test(args: argparse.Namespace, out: TextIO) -> int:
    from watcher.ingest.fetch import Fetcher
    from watcher.ingest.poll import PollError, Remembered, poll_source

    config = _optional_config(args.config)
    source = _tested_source(args.target, args.kind, config)

    async def poll() -> Polled:
        async with Fetcher(config.http) as fetcher:
            async with asyncio.timeout(config.check.source_budget):
                return await poll_source(fetcher, source, Remembered())

    try:
        polled = asyncio.run(poll())
    except PollError as exc:
        raise SourcesError(str(exc)) from None
    except TimeoutError:
        raise SourcesError(
            f"{source.url}: no items read within check.source_budget "
            f"({config.check.source_budget:g}s)"
        ) from None
    feed = polled.feed
    items = feed.items if feed else []
    if args.json:
        _print_json(
            {
                "source": _source_json(source),
                "kind": str(polled.kind),
                "polled_url": polled.url,
                "feed_url": polled.feed_url,
                "notes": polled.notes,
                "problem": feed.problem if feed else None,
                "items": len(items),
                "first_items": [
                    {
                        "title": i.title,
                        "link": i.link,
                        "published": i.published.isoformat() if i.published else None,
                    }
                    for i in items[:SHOWN_ITEMS]
                ],
            },
            out,
        )
        return EXIT_OK
    out.write(f"{safe(source.url)}: read as a {polled.kind}: {safe(polled.url)}\n")
    for note in polled.notes:
        out.write(f"  {safe(note)}\n")
    if feed and feed.problem:
        out.write(f"  warning: {safe(feed.problem)}\n")
    out.write(f"{len(items)} item(s); the first {min(len(items), SHOWN_ITEMS)}:\n")
    for item in items[:SHOWN_ITEMS]:
        when = item.published.date().isoformat() if item.published else "undated"
        out.write(f"  {safe(item.title or '(untitled)')} [{when}]\n    {safe(item.link or '')}\n")
    return EXIT_OK


# -- import and export -------------------------------------------------------------


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    from watcher.config_edit import name_for
    from watcher.opml import OpmlError, read_opml

    try:
        listed = read_opml(Path(args.file))
    except OpmlError as exc:
        raise SourcesError(str(exc)) from None
    editor = _editor(args)
    known = editor.urls()
    added: list[str] = []
    already = 0
    for outline in listed.outlines:
        if outline.url in known:
            already += 1
            continue
        wanted = name_for(outline.title or urlsplit(outline.url).hostname or outline.url)
        name = editor.free_name(wanted)
        editor.add(name, outline.url, kind=args.kind)
        known.add(outline.url)
        added.append(name)
    if added:
        editor.save()
    for line in listed.skipped:
        print(f"watcher: skipped: {' '.join(line.split())}", file=sys.stderr)
    if args.json:
        _print_json({"added": added, "already": already, "skipped": listed.skipped}, out)
    else:
        out.write(
            f"{len(added)} source(s) added, {already} already there, "
            f"{len(listed.skipped)} skipped\n"
        )
        if added:
            _reload_hint(out, editor.path)
    return EXIT_OK if added or already or not listed.skipped else EXIT_ERROR


def cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    from watcher.opml import write_opml

    config = load_config(args.config)
    data = write_opml(config.sources, title=f"watcher sources ({config.path})")
    if args.output:
        try:
            Path(args.output).write_bytes(data)
        except OSError as exc:
            raise SourcesError(f"{args.output}: cannot write: {exc.strerror}") from None
        out.write(f"{len(config.sources)} source(s) written to {args.output}\n")
    else:
        out.write(data.decode("utf-8"))
    return EXIT_OK


SOURCE_ACTIONS = {
    "list": cmd_list,
    "add": cmd_add,
    "remove": cmd_remove,
    "enable": cmd_enable,
    "disable": cmd_enable,
    "test": cmd_test,
    "import": cmd_import,
    "export": cmd_export,
}


def cmd_sources(args: argparse.Namespace, _config: Config | None, out: TextIO) -> int:
    return SOURCE_ACTIONS[args.action](args, out)


# -- articles --------------------------------------------------------------------


def cmd_articles(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.store import open_store

    store = open_store(config.database_url())
    try:
        failed = store.failed_items()
        if args.action == "retry":
            chosen = failed
            if args.ids:
                by_id = {item.id: item for item in failed}
                unknown = [i for i in args.ids if i not in by_id]
                if unknown:
                    raise SourcesError(
                        f"articles retry: no article given up on has id {', '.join(unknown)} "
                        "(see `watcher articles failed`)"
                    )
                chosen = [by_id[i] for i in args.ids]
            count = store.retry_items(chosen)
            if args.json:
                _print_json({"requeued": count}, out)
            else:
                out.write(f"{count} article(s) queued again; the next pass fetches them\n")
            return EXIT_OK
    finally:
        store.close()
    if args.json:
        _print_json({"failed": [item.to_json() for item in failed]}, out)
        return EXIT_OK
    if not failed:
        out.write("articles: none given up on\n")
    for item in failed:
        out.write(
            f"{item.id}  {safe(item.source)}  {safe(item.title or '(untitled)')}"
            f" (attempts {item.attempts})\n"
            f"    {safe(item.link or '')}\n    {safe(item.last_error or 'no reason recorded')}\n"
        )
    return EXIT_OK


def add_commands(commands: Any, common: list[argparse.ArgumentParser]) -> None:
    """``sources`` and ``articles``, on the main parser's subcommands."""
    sources = commands.add_parser(
        "sources",
        help="list, add, remove, enable, disable, test, import or export sources",
        description="Manage the [[sources]] of the config file. The file is edited in "
        "place, comments and layout kept, and only written when the result is a valid "
        "config; a running daemon takes the change up on reload (SIGHUP).",
    )
    actions = sources.add_subparsers(dest="action", metavar="ACTION", required=True)
    kinds = list(SourceKind)

    listing = actions.add_parser("list", parents=common, help="the sources in the config")
    listing.set_defaults(handler=cmd_sources, needs_config=False)

    add = actions.add_parser(
        "add",
        parents=common,
        help="add a source: a feed, a site, a section page or a sitemap",
        description="Add a source to the config. A site's address is enough: its feed "
        "is found when it is polled (`watcher sources test URL` shows what it gives).",
    )
    add.add_argument("url", metavar="URL")
    add.add_argument("--name", help="its name (default: from the URL's host)")
    add.add_argument(
        "--kind", type=SourceKind, choices=kinds, help="what the URL is (default: auto)"
    )
    add.add_argument("--interval", help="how often the daemon polls it (e.g. 15m)")
    add.set_defaults(handler=cmd_sources, needs_config=False)

    for action in ("remove", "enable", "disable"):
        parser = actions.add_parser(action, parents=common, help=f"{action} a source by name")
        parser.add_argument("name", metavar="NAME")
        parser.set_defaults(handler=cmd_sources, needs_config=False)

    test = actions.add_parser(
        "test",
        parents=common,
        help="show what a URL (or a configured source) would give: its kind, feed, first items",
        description="Poll a URL once, as a source, and show what would be polled (the "
        "feed found for a site, the page, the sitemap) and its first items. Nothing is "
        "stored. Exit status 2, with one line, when it gives no items.",
    )
    test.add_argument("target", metavar="URL|NAME")
    test.add_argument(
        "--kind", type=SourceKind, choices=kinds, help="read it as this kind (default: auto)"
    )
    test.set_defaults(handler=cmd_sources, needs_config=False)

    opml_in = actions.add_parser(
        "import",
        parents=common,
        help="add the feeds of an OPML file",
        description="Add every feed of an OPML subscription list as a source. An outline "
        "with a broken URL is skipped with one line naming it; feeds already in the "
        "config are left as they are.",
    )
    opml_in.add_argument("file", metavar="FILE.opml")
    opml_in.add_argument(
        "--kind", type=SourceKind, choices=kinds, help="the kind of every source added"
    )
    opml_in.set_defaults(handler=cmd_sources, needs_config=False)

    opml_out = actions.add_parser(
        "export", parents=common, help="write the sources as an OPML file"
    )
    opml_out.add_argument("--output", metavar="FILE", help="write here (default: stdout)")
    opml_out.set_defaults(handler=cmd_sources, needs_config=False)

    articles = commands.add_parser(
        "articles",
        help="`articles failed`: articles given up on, and why; `retry` queues them again",
    )
    article_actions = articles.add_subparsers(dest="action", metavar="ACTION", required=True)
    failed = article_actions.add_parser(
        "failed",
        parents=common,
        help="articles given up on after articles.max_attempts tries, with the reason",
    )
    failed.set_defaults(handler=cmd_articles, needs_config=True)
    retry = article_actions.add_parser(
        "retry",
        parents=common,
        help="queue articles given up on again (all, or by ID); the next pass fetches them",
    )
    retry.add_argument("ids", nargs="*", metavar="ID")
    retry.set_defaults(handler=cmd_articles, needs_config=True)
