"""``watcher outbox``, ``watcher digest`` and ``watcher notify``: the alerts waiting, the
digest, and a test message to every channel.
"""

from __future__ import annotations

import argparse
from typing import TextIO

from watcher.alerts.outbox import OutboxError, outbox_json
from watcher.cli.main import EXIT_ERROR, EXIT_OK, CommandError
from watcher.cli.report import format_dispatch
from watcher.cli.shared import config_renderer, config_stories, open_state, print_json
from watcher.config import Config, Routing
from watcher.facts import knowledge
from watcher.models import AlertState
from watcher.store import utcnow
from watcher.terminal import safe


def cmd_outbox(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.notify import Dispatcher

    store = open_state(config)
    try:
        with Dispatcher(config, store, config_renderer(config)) as dispatcher:
            outbox = dispatcher.outbox
            if args.action == "retry":
                try:
                    count = outbox.retry(args.ids or None)
                except OutboxError as exc:
                    raise CommandError(str(exc)) from None
                dispatch = dispatcher.send_due()
                if args.json:
                    print_json({"requeued": count, "alerts": dispatch.to_json()}, out)
                else:
                    out.write(f"{count} alert(s) to send now\n")
                    format_dispatch(dispatch, out)
                return EXIT_OK
            alerts = outbox.listing()
    finally:
        store.close()
    if args.json:
        print_json(outbox_json(alerts), out)
        return EXIT_OK
    if not alerts:
        out.write("outbox: nothing pending or failed\n")
    for alert in alerts:
        line = f"{alert.id:>5}  {alert.state:<9} {alert.channel:<10} {alert.kind:<7} "
        out.write(line + f"{safe(alert.subject_key)} (attempts {alert.attempts})\n")
        if alert.state == AlertState.PENDING:
            out.write(f"       next attempt {alert.next_attempt.isoformat()}\n")
        if alert.last_error:
            out.write(f"       {safe(alert.last_error)}\n")
    return EXIT_OK


def cmd_notify(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.notify import Dispatcher

    if not config.notify.channels():
        raise CommandError(f"{config.path}: notify: no channel configured (email, slack, apprise)")
    store = open_state(config)
    try:
        with Dispatcher(config, store, config_renderer(config)) as dispatcher:
            results = dispatcher.send_test()
    finally:
        store.close()
    if args.json:
        print_json(
            {name: {"ok": error is None, "error": error} for name, error in results.items()}, out
        )
    else:
        for name, error in results.items():
            out.write(f"{name}: {'ok' if error is None else 'FAILED: ' + safe(error)}\n")
    return EXIT_OK if all(error is None for error in results.values()) else EXIT_ERROR


def cmd_digest(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    from watcher.alerts.digest import digest_for, queue_digest
    from watcher.alerts.notify import Dispatcher

    channels = config.notify.channels()
    if args.channel and args.channel not in channels:
        raise CommandError(f"{config.path}: notify: no channel named {args.channel!r}")
    stories = config_stories(config, args.story)
    renderer = config_renderer(config)
    store = open_state(config)
    now = utcnow()
    try:
        knowledge.install_stories(store, stories, at=now, policy=knowledge.policy_of(config))
        if not args.send:
            routing = (
                channels[args.channel] if args.channel else next(iter(channels.values()), None)
            )
            shown = [s for s in stories if args.channel is None or s.hears(args.channel)]
            digests = [
                digest_for(config, store, story, routing or Routing(), end=now) for story in shown
            ]
            if args.json:
                if len(digests) == 1 and not args.story:
                    print_json(digests[0].to_json(), out)
                else:
                    print_json({"digests": [d.to_json() for d in digests]}, out)
            else:
                for number, digest in enumerate(digests):
                    rendered = renderer.digest(digest)
                    rule = "\n" + "-" * 72 + "\n\n" if number else ""
                    out.write(f"{rule}Subject: {rendered.subject}\n\n{rendered.text}")
            return EXIT_OK
        if not channels:
            raise CommandError(f"{config.path}: notify: no channel configured to send to")
        names = [args.channel] if args.channel else list(channels)
        for name in names:
            queue_digest(config, store, stories, name, end=now, force=True)
        with Dispatcher(config, store, renderer) as dispatcher:
            dispatch = dispatcher.send_due()
    finally:
        store.close()
    if args.json:
        print_json(dispatch.to_json(), out)
    else:
        format_dispatch(dispatch, out)
    return EXIT_OK if not dispatch.failed and not dispatch.retrying else EXIT_ERROR
