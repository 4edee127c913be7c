"""Plain-text reports of what a pass found, for people at a terminal."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

from watcher.alerts.outbox import DispatchReport
from watcher.alerts.render import REVISION_MARK, quoted, status_text
from watcher.facts.compare import ChangeEvent, KnownFact, Reading, describe
from watcher.facts.known import Origin
from watcher.facts.reading import Explanation
from watcher.facts.topic import Topic
from watcher.models import (
    AlertState,
    ChangeStatus,
    ChangeType,
    Evidence,
    FactChange,
    Observation,
)
from watcher.service.report import CheckReport, PollStatus, ReportedChange
from watcher.status import WorkerState
from watcher.store import CorrectionKind, StoredCorrection
from watcher.terminal import safe

_EVENTS = {
    ChangeEvent.NEW: "new",
    ChangeEvent.CONFIRMED: "now confirmed",
    ChangeEvent.CORROBORATED: "more sources",
    ChangeEvent.CORRECTED: "corrected: an earlier article arrived late",
}


def _evidence_lines(evidence: Evidence, indent: str = "    ") -> str:
    when = f", {evidence.published.isoformat()}" if evidence.published else ""
    title = safe(evidence.title or evidence.site)
    return (
        f"{indent}{quoted(safe(evidence.quote))}\n"
        f"{indent}  {title} ({safe(evidence.site)}{when}) {safe(evidence.url)}\n"
    )


def format_changes(changes: list[ReportedChange], out: TextIO) -> None:
    """Changes first reported or confirmed, with their evidence; then, one line each,
    earlier changes that only gained a source (restating is never a change)."""
    news = [c for c in changes if c.is_news]
    if news:
        out.write("\nFact changes:\n")
    for reported in news:
        change = reported.change
        out.write(f"* {_change_line(change)} [{_status(change)}; {_EVENTS[reported.event]}]\n")
        if change.revision:
            old = safe(change.old) if change.old else "unknown"
            out.write(f"  {REVISION_MARK}: {old} -> {safe(change.new)}\n")
        if change.change_type == ChangeType.CONFLICT:
            out.write("  sources disagree; the known value stands until one side is confirmed\n")
        for evidence in change.evidence:
            out.write(_evidence_lines(evidence))
        for evidence in change.revised_from:
            out.write("  before the edit:\n" + _evidence_lines(evidence))
        if reported.alerts:
            out.write(f"  alert queued for: {', '.join(reported.alerts)}\n")
    corroborated = [c for c in changes if not c.is_news]
    if corroborated:
        out.write("\nMore sources for earlier changes (not new):\n")
    for reported in corroborated:
        out.write(f"= {_change_line(reported.change)} [{_status(reported.change)}]\n")


def _change_line(change: FactChange) -> str:
    old = safe(change.old) if change.old else "unknown"
    return f"{safe(change.label)}: {old} -> {safe(change.new)}"


def _status(change: FactChange) -> str:
    return status_text(change.status, change.evidence)


def format_dispatch(report: DispatchReport, out: TextIO) -> None:
    if not (report.sent or report.retrying or report.failed):
        return
    out.write(
        f"alerts: {len(report.sent)} sent, {len(report.retrying)} waiting to retry, "
        f"{len(report.failed)} failed\n"
    )
    for alert, reason in [*report.retrying, *report.failed]:
        out.write(f"  ! alert {alert.id} on {alert.channel}: {safe(reason)}\n")


def format_check(report: CheckReport, out: TextIO) -> None:
    for source in report.sources:
        if source.status == PollStatus.FAILED:
            out.write(f"{safe(source.name)}: FAILED: {safe(source.error or '')}\n")
            continue
        detail = {
            PollStatus.NOT_MODIFIED: "not modified since last pass",
            PollStatus.UNCHANGED: "feed unchanged",
        }.get(source.status)
        line = f"{safe(source.name)}: {len(source.articles)} new article(s)"
        if detail and not source.articles:
            line = f"{safe(source.name)}: nothing new ({detail})"
        out.write(line + "\n")
        for note in source.notes:
            out.write(f"  {safe(note)}\n")
        if source.feed_problem:
            out.write(f"  warning: {safe(source.feed_problem)}\n")
        for article in source.articles:
            when = article.published.date().isoformat() if article.published else "undated"
            out.write(
                f"  + {safe(article.title or '(untitled)')} [{when}]\n    {safe(article.url)}\n"
            )
        for article in source.revised:
            out.write(f"  ~ updated: {safe(article.title or '(untitled)')}\n")
            out.write(f"    {safe(article.url)}\n")
        for failure in source.failures:
            retry = "gave up" if failure.gave_up else "will retry"
            out.write(f"  ! {safe(failure.reason)} ({retry})\n")
        if source.unrelated:
            out.write(
                f"  {source.unrelated} new item(s) not fetched: they name nothing of the story\n"
            )
        if source.deferred:
            out.write(
                f"  {source.deferred} article(s) not started in time, left for the next pass\n"
            )
        if source.health:
            out.write(f"  health: {source.health.kind}: {safe(source.health.detail)}\n")
    format_changes(report.changes, out)
    failed = len(report.failed_sources)
    with_articles = sum(1 for s in report.sources if s.articles)
    out.write(
        f"{report.new_articles} new article(s) from {with_articles} of "
        f"{len(report.sources)} source(s)"
        + (f", {report.revised_articles} updated" if report.revised_articles else "")
        + (f", {failed} failed" if failed else "")
        + f", {len(report.fact_changes)} fact change(s)\n"
    )


# A running daemon publishes its status every few seconds; older than this, it is gone.
DAEMON_SILENT_AFTER = timedelta(minutes=2)


def _ago(delta: timedelta) -> str:
    seconds = abs(delta.total_seconds())
    if seconds < 60:
        amount = f"{seconds:.0f} s"
    elif seconds < 3600:
        amount = f"{seconds / 60:.0f} min"
    elif seconds < 2 * 86400:
        amount = f"{seconds / 3600:.1f} h"
    else:
        amount = f"{seconds / 86400:.0f} days"
    return f"in {amount}" if delta.total_seconds() > 0 else f"{amount} ago"


def when(iso: str | None, now: datetime, *, never: str = "never") -> str:
    """``2024-08-05 12:00:03 UTC (3 min ago)`` for an ISO time from the database."""
    if not iso:
        return never
    try:
        moment = datetime.fromisoformat(iso).astimezone(UTC)
    except (TypeError, ValueError):  # a damaged row: show what it holds
        return safe(str(iso))
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({_ago(moment - now)})"


def format_status(status: dict[str, Any], out: TextIO, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    for source in status["sources"]:
        flag = "" if source["enabled"] else " (disabled)"
        out.write(f"{safe(source['name'])}{flag}: {safe(source['url'])}\n")
        out.write(f"  last attempt: {when(source['last_attempt'], now)}\n")
        out.write(f"  last success: {when(source['last_success'], now)}\n")
        if source["last_error"]:
            failures = source["consecutive_failures"]
            out.write(f"  last error:   {safe(source['last_error'])} ({failures} in a row)\n")
        out.write(f"  items seen:   {source['items_seen']}\n")
    alerts = status["alerts"]
    out.write(
        f"alerts: {alerts[AlertState.PENDING]} pending, {alerts[AlertState.FAILED]} failed, "
        f"{alerts[AlertState.UNCERTAIN]} uncertain (see `watcher outbox`)\n"
    )
    daemon = status["daemon"]
    if not daemon:
        out.write("daemon: has not run with this database\n")
        return
    started, last_pass = when(daemon["started"], now), when(daemon["last_pass"], now, never="none")
    if daemon.get("stopped"):
        out.write(f"daemon: stopped {when(daemon['stopped'], now)}; last pass {last_pass}\n")
        return
    heard = daemon.get("updated")
    silent = heard and now - datetime.fromisoformat(heard).astimezone(UTC) > DAEMON_SILENT_AFTER
    if daemon.get("gone") or silent:
        out.write(
            f"daemon: pid {daemon['pid']} last heard from {when(heard, now)}; not running "
            f"(it stopped without saying so); last pass {last_pass}\n"
        )
    else:
        out.write(f"daemon: pid {daemon['pid']}, started {started}, last pass {last_pass}\n")
        if daemon.get("web"):
            out.write(f"  web view: {daemon['web']}\n")
        for job, next_run in sorted(daemon.get("next_runs", {}).items()):
            out.write(f"  next {job}: {when(next_run, now, never='paused')}\n")
    _format_workers(status.get("workers", []), out, now)


# Stopped and gone workers are listed for this long after their last heartbeat.
WORKERS_LISTED_FOR = timedelta(days=1)


def _format_workers(workers: list[dict[str, Any]], out: TextIO, now: datetime) -> None:
    """Every worker running, and those stopped or gone in the last day."""
    shown = [
        w
        for w in workers
        if w["state"] == WorkerState.RUNNING
        or now - datetime.fromisoformat(w["heartbeat"]).astimezone(UTC) <= WORKERS_LISTED_FOR
    ]
    if not shown:
        return
    states = Counter(w["state"] for w in shown)
    out.write("workers: " + ", ".join(f"{n} {state}" for state, n in sorted(states.items())) + "\n")
    for worker in shown:
        name, heard = safe(worker["name"]), when(worker["heartbeat"], now)
        if worker["state"] == WorkerState.RUNNING:
            polling = ", ".join(safe(s) for s in worker["polling"]) or "nothing"
            out.write(f"  {name}: running since {when(worker['started'], now)}\n")
            out.write(f"    heartbeat {heard}; polling now: {polling}\n")
            out.write(
                f"    {worker['passes']} poll(s) since it started; the last to poll "
                f"{len(worker['polled'])} source(s)\n"
            )
        elif worker["state"] == WorkerState.STOPPED:
            out.write(f"  {name}: stopped {when(worker['stopped'], now)}\n")
        else:
            out.write(
                f"  {name}: gone, no heartbeat since {heard}; its sources are polled by "
                "the others\n"
            )


# -- facts ---------------------------------------------------------------------

_ORIGINS = {
    Origin.SEEDS: "from the seeds",
    Origin.PINNED: "pinned in config",
    Origin.SET: "set by a person",
    Origin.OBSERVED: "observed",
}


def _reading(kind: str, reading: Reading) -> str:
    value = describe(kind, reading.value, reading.qualifier)
    return f"{value} (as of {reading.as_of.isoformat()})" if reading.as_of else value


def format_known(
    facts: list[KnownFact],
    topic: Topic,
    out: TextIO,
    *,
    history: bool,
    asked: tuple[str, ...] | None = None,
) -> None:
    """Each fact: its value and origin, its sources; other readings and, if asked, history.


    ``asked`` are the keys the user wanted (default: every fact of the topic);
    those of them nothing is known about are listed as unknown.
    """
    labels = {f.key: f.label for f in topic.facts}
    for fact in facts:
        out.write(
            f"{safe(labels.get(fact.key, fact.key))} ({fact.key}): "
            f"{safe(_reading(fact.kind, fact.current))}, {_ORIGINS.get(fact.origin, fact.origin)}\n"
        )
        for evidence in fact.sources:
            out.write(_evidence_lines(evidence))
        for other in fact.alternatives:
            out.write(f"  also reported: {safe(_reading(fact.kind, other))}\n")
            for evidence in other.sources:
                out.write(_evidence_lines(evidence, "      "))
        for conflict in fact.conflicts:
            out.write(
                f"  disputed by: {safe(_reading(fact.kind, conflict.new))} ({conflict.status})\n"
            )
            for evidence in conflict.new.sources:
                out.write(_evidence_lines(evidence, "      "))
        if history and fact.history:
            out.write("  before:\n")
            for old in reversed(fact.history):
                sources = ", ".join(safe(e.site) for e in old.sources) or "no source"
                out.write(f"    {safe(_reading(fact.kind, old))} ({sources})\n")
    shown = {f.key for f in facts}
    wanted = topic.keys if asked is None else asked
    missing = [f for f in topic.facts if f.key in wanted and f.key not in shown]
    for unknown in missing:
        out.write(f"{safe(unknown.label)} ({unknown.key}): unknown\n")


def format_corrections(
    changes: list[FactChange], corrections: list[StoredCorrection], out: TextIO
) -> None:
    """The story's rejected changes and the corrections people made, with who, why and when."""
    rejected = {c.change_id: c for c in changes if c.status == ChangeStatus.REJECTED}
    if not corrections:
        return
    out.write("corrections:\n")
    for correction in corrections:
        when = f"{correction.created_at:%Y-%m-%d %H:%M} UTC"
        if correction.kind == CorrectionKind.REJECT:
            change = rejected.get(correction.change_id or 0)
            what = f"rejected change {correction.change_id}" + (
                f" ({safe(change.label)}: {safe(change.old or 'unknown')} -> {safe(change.new)})"
                if change
                else ""
            )
        else:
            value = correction.data.get("value")
            verb = "pinned" if correction.kind == CorrectionKind.PIN else "set"
            what = f"{verb} {correction.key} = {safe(str(value))} as of {correction.data['as_of']}"
        why = f": {safe(correction.why)}" if correction.why else ""
        undone = (
            f" [undone by {safe(correction.undone_by or '')} {correction.undone_at:%Y-%m-%d}]"
            if correction.undone_at
            else ""
        )
        out.write(f"  {correction.id:>4}  {what}, by {safe(correction.by)} {when}{why}{undone}\n")


def format_observations(observations: list[Observation], out: TextIO) -> None:
    if not observations:
        out.write("facts: none (off topic, or no tracked fact stated)\n")
        return
    out.write("facts:\n")
    for obs in observations:
        as_of = f" (as of {obs.as_of.isoformat()})" if obs.as_of else ""
        value = describe(obs.kind, obs.value, obs.qualifier)
        out.write(f"  {obs.key}: {safe(value)}{as_of}\n")
        out.write(f"    {quoted(safe(obs.evidence.quote))}\n")


def format_explanation(
    explanation: Explanation, topic: Topic, out: TextIO, *, every_sentence: bool = False
) -> None:
    """Why each sentence gave what it gave, or nothing: for ``extract --explain``.

    Facts read are marked ``->``; in an article that is not about the story,
    where nothing is kept, what would have been read is marked ``~>``.
    """
    arrow = "->"
    if explanation.off_topic:
        arrow = "~>"
        out.write(
            f"not about this story ({topic.title}): the article {explanation.off_topic}; "
            "nothing is read from it (~> shows what would have been)\n\n"
        )
    quiet = 0
    for number, sentence in enumerate(explanation.sentences, start=1):
        if not sentence.found and not sentence.notes and not every_sentence:
            quiet += 1
            continue
        out.write(f"[{number}] {safe(sentence.text)}\n")
        out.write(f"    about: {sentence.about or '(no force named)'}\n")
        for found in sentence.found:
            value = describe(topic.fact(found.key).kind, found.value, found.qualifier)
            when = f" (as of {found.as_of.isoformat()})" if found.as_of else ""
            implied = " [implied]" if found.implied else ""
            out.write(
                f"    {arrow} {found.key} = {safe(value)}{when}{implied}: {safe(found.why)}\n"
            )
        for note in sentence.notes:
            out.write(f"    .. {safe(note)}\n")
        if not sentence.found and not sentence.notes:
            out.write("    .. names no event, date or count of the story\n")
    for obs in explanation.implied:
        value = describe(obs.kind, obs.value, obs.qualifier)
        out.write(f"\nimplied by the article as a whole: {obs.key} = {safe(value)}\n")
    if quiet:
        out.write(
            f"\n{quiet} other sentence(s) named no event, date or count of the story "
            "(--all shows them)\n"
        )
