"""Alerts and digests rendered with jinja2: email text and HTML, Slack text.

Templates are looked up file by file in the user's folder first, then in the
shipped ``templates/``. :func:`load_templates` compiles every one and renders
it once with sample data, so a broken template stops watcher at start-up
with its file and line instead of failing the first real alert.

Article text is never trusted. Templates get views whose text is one clean
line, whose quotes are truncated and whose links are http(s) only; HTML
templates are autoescaped, and every expression in a Slack template is
mrkdwn-escaped, so a template cannot forget to.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from watcher.models import ChangeType, CurrentFact, Digest, Evidence, FactChange
from watcher.resources import resource_path
from watcher.terminal import safe

if TYPE_CHECKING:
    import jinja2

QUOTE_LIMIT = 600
# How a change read from an edited article is marked, in every channel.
REVISION_MARK = "updated article"
TITLE_LIMIT = 300
SUBJECT_LIMIT = 200
UNKNOWN = "unknown"

ALERT_TEMPLATES = ("alert.txt.j2", "alert.html.j2", "slack_alert.j2")
DIGEST_TEMPLATES = ("digest.txt.j2", "digest.html.j2", "slack_digest.j2")
# Included by the alert and digest templates; overridable like them.
PARTIAL_TEMPLATES = ("_change.txt.j2", "_change.html.j2")


class TemplateError(Exception):
    """A template that does not compile or render, as ``file:line: problem``."""


# -- cleaning article text ---------------------------------------------------


def clean(text: str) -> str:
    """``text`` as one line: whitespace collapsed, control characters removed."""
    return safe(" ".join(text.split()))


def truncate(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, at a word if one is near, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit * 0.8:
        cut = cut[:space]
    return cut.rstrip() + "…"


def http_url(url: str) -> str | None:
    """``url`` if it is an absolute http(s) URL safe to put in a link, else None."""
    url = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url
    return None


# Slack's formatting characters have no escape: each becomes a character of the same
# look that Slack does not read (as jsx-slack's <Escape> does inside links).
_MRKDWN_LOOKALIKES = str.maketrans(
    {
        "*": "\u2217",  # asterisk operator
        "\uff0a": "\ufe61",  # fullwidth asterisk -> small asterisk
        "_": "\u02cd",  # modifier letter low macron
        "\uff3f": "\u2e0f",  # fullwidth low line -> paragraphos
        "~": "\u223c",  # tilde operator
        "`": "\u02cb",  # modifier letter grave accent
        "\uff40": "\u02cb",
    }
)
_LEADING_QUOTE = re.compile(r"^(&gt;|\uff1e)", re.MULTILINE)

_INNER_QUOTES = str.maketrans({'"': "'", "\u201c": "\u2018", "\u201d": "\u2019"})


def quoted(text: str) -> str:
    """``text`` in double quotation marks; quotation marks inside it become single ones.

    A quote that itself opens with a quotation (``"It is done," he said.``)
    would otherwise begin with two marks in a row.
    """
    return f'"{text.translate(_INNER_QUOTES)}"'


def escape_mrkdwn(text: str) -> str:
    """Text that Slack shows as it is: ``&``, ``<``, ``>`` as entities (no mention or link
    can be forged), formatting characters (``*bold*``, ``_italic_``, ``~strike~``,
    ``code``) as look-alikes, and a ``>`` opening a line kept from starting a quote."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _LEADING_QUOTE.sub("\u00ad\\1", text.translate(_MRKDWN_LOOKALIKES))


def _header_line(text: str) -> str:
    return truncate(clean(text), SUBJECT_LIMIT)


# -- what templates see --------------------------------------------------------


def status_text(status: str, evidence: Iterable[Evidence]) -> str:
    """``confirmed by 3 independent sources``, ``reported by 1 source``, ..."""
    count = len({e.site for e in evidence})
    if not count:
        return status
    sources = "1 source" if count == 1 else f"{count} independent sources"
    if status in ("reported", "confirmed"):
        return f"{status} by {sources}"
    return f"{status.replace('_', ' ')} ({sources})"


@dataclass(frozen=True)
class SourceView:
    """One piece of evidence, cleaned for display.

    ``title`` falls back to the site; ``link`` is the URL when it is safe to
    link to (http or https), else None and templates show ``url`` as text.
    """

    quote: str
    title: str
    site: str
    url: str
    link: str | None
    published: date | None

    @classmethod
    def of(cls, evidence: Evidence) -> SourceView:
        site = clean(evidence.site)
        return cls(
            quote=truncate(clean(evidence.quote), QUOTE_LIMIT),
            title=truncate(clean(evidence.title or ""), TITLE_LIMIT) or site,
            site=site,
            url=clean(evidence.url),
            link=http_url(evidence.url),
            published=evidence.published,
        )


@dataclass(frozen=True)
class ChangeView:
    """A fact change, cleaned for display; ``status`` is a phrase (see :func:`status_text`)."""

    key: str
    label: str
    old: str
    new: str
    status: str
    change_type: str
    first_seen: datetime
    as_of: date | None
    sources: tuple[SourceView, ...]
    # Read from an article's changed text; ``revised_from`` is what it said before.
    revision: bool = False
    revised_from: tuple[SourceView, ...] = ()

    @property
    def marker(self) -> str:
        """``Updated article: 600 → 24`` for a revision, else empty."""
        return f"{REVISION_MARK.capitalize()}: {self.old} → {self.new}" if self.revision else ""

    @classmethod
    def of(cls, change: FactChange) -> ChangeView:
        return cls(
            key=change.key,
            label=clean(change.label),
            old=clean(change.old) if change.old else UNKNOWN,
            new=clean(change.new),
            status=status_text(change.status, change.evidence),
            change_type=change.change_type,
            first_seen=change.first_seen,
            as_of=change.as_of,
            sources=tuple(SourceView.of(e) for e in change.evidence),
            revision=change.revision,
            revised_from=tuple(SourceView.of(e) for e in change.revised_from),
        )


@dataclass(frozen=True)
class FactView:
    """A tracked fact's current value, its "as of" date and the source of both."""

    key: str
    label: str
    value: str
    as_of: date | None
    source: SourceView | None

    @classmethod
    def of(cls, fact: CurrentFact) -> FactView:
        return cls(
            key=fact.key,
            label=clean(fact.label),
            value=clean(fact.value) if fact.value else UNKNOWN,
            as_of=fact.as_of,
            source=SourceView.of(fact.source) if fact.source else None,
        )


@dataclass(frozen=True)
class StoryView:
    """The story a message belongs to, cleaned for display: its title (from its topic)
    and its name (what ``--story`` takes). Messages name it only when the config
    follows several stories; a title older payloads lack falls back to the name."""

    title: str
    name: str

    @property
    def line(self) -> str:
        """``Story: Wagner leaves Mali (mali)``."""
        named = f" ({self.name})" if self.name != self.title else ""
        return f"Story: {self.title}{named}"

    @classmethod
    def of(cls, name: str | None, title: str | None) -> StoryView | None:
        if not name:
            return None  # a source's health: no story of its own
        name = clean(name)
        return cls(title=truncate(clean(title or ""), TITLE_LIMIT) or name, name=name)


def _in_story(text: str, story: StoryView | None) -> str:
    return f"{story.title} — {text}" if story else text


def alert_subject(change: FactChange, story: StoryView | None = None) -> str:
    """``[watcher] Air Base 201 status: operating → handed over``: the same for the same
    change; with ``story``, its title comes first (``[watcher] Wagner leaves Mali — ...``)."""
    view = ChangeView.of(change)
    mark = f" ({REVISION_MARK})" if view.revision else ""
    return _header_line(
        f"[watcher] {_in_story(f'{view.label}: {view.old} → {view.new}', story)}{mark}"
    )


def thread_topic(label: str, story: StoryView | None = None) -> str:
    """``[watcher] Air Base 201 status``: what every alert about one fact (of one story) shares."""
    return _header_line(f"[watcher] {_in_story(label, story)}")


def digest_subject(digest: Digest) -> str:
    return _header_line(f"[watcher] {digest.title}")


def period_text(start: datetime, end: datetime) -> str:
    """``2024-08-11 08:00 – 2024-08-12 08:00 CEST``, in the zone the times are given in."""
    zone = end.strftime("%Z")
    text = f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"
    return f"{text} {zone}" if zone else text


def _digest_context(digest: Digest, story: StoryView | None) -> dict[str, Any]:
    return {
        "subject": digest_subject(digest),
        "story": story,
        "title": clean(digest.title),
        "period": period_text(digest.period_start, digest.period_end),
        "period_start": digest.period_start,
        "period_end": digest.period_end,
        "changes": [ChangeView.of(c) for c in digest.changes],
        "facts": [FactView.of(f) for f in digest.facts],
        "outlook": [truncate(clean(line), QUOTE_LIMIT) for line in digest.outlook],
    }


# -- the renderer --------------------------------------------------------------


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


RenderedAlert = RenderedMessage
RenderedDigest = RenderedMessage


def _mrkdwn_finalize(value: Any) -> str:
    return escape_mrkdwn(str(value))


def _syntax_error(exc: jinja2.TemplateSyntaxError) -> TemplateError:
    return TemplateError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}")


def _render_error(exc: Exception, template: jinja2.Template) -> TemplateError:
    """The template line that failed: jinja2 rewrites tracebacks to point into templates."""
    where = template.filename or template.name
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename.endswith(".j2"):
            where = f"{frame.filename}:{frame.lineno}"
            break
    return TemplateError(f"{where}: {clean(str(exc)) or type(exc).__name__}")


class Renderer:
    """The compiled templates. Build it with :func:`load_templates`.

    ``with_story`` (a config following several stories) names each message's
    story: in an alert's subject and first lines, and at the top of a digest.
    """

    def __init__(self, search_path: list[Path], *, with_story: bool = False) -> None:
        # Imported here: a pass that sends nothing never needs jinja2.
        import jinja2

        self.with_story = with_story
        options: dict[str, Any] = {
            "loader": jinja2.FileSystemLoader([str(p) for p in search_path]),
            "undefined": jinja2.StrictUndefined,
            "trim_blocks": True,
            "lstrip_blocks": True,
            "keep_trailing_newline": True,
        }
        filters = {"quoted": quoted}
        mail = jinja2.Environment(
            autoescape=jinja2.select_autoescape(
                enabled_extensions=("html.j2", "html"), default_for_string=False, default=False
            ),
            **options,
        )
        slack = jinja2.Environment(autoescape=False, finalize=_mrkdwn_finalize, **options)
        for env in (mail, slack):
            env.filters.update(filters)
        self._templates: dict[str, jinja2.Template] = {}
        for name in (*ALERT_TEMPLATES, *DIGEST_TEMPLATES, *PARTIAL_TEMPLATES):
            env = slack if name.startswith("slack_") else mail
            try:
                self._templates[name] = env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise _syntax_error(exc) from None
            except jinja2.TemplateNotFound:
                raise TemplateError(f"{name}: template not found") from None

    def _render(self, name: str, context: dict[str, Any]) -> str:
        import jinja2

        template = self._templates[name]
        try:
            return template.render(context)
        except jinja2.TemplateSyntaxError as exc:
            raise _syntax_error(exc) from None
        except Exception as exc:
            raise _render_error(exc, template) from exc

    def story_of(self, message: FactChange | Digest) -> StoryView | None:
        """The story a change or digest names, or None when stories are not named."""
        return StoryView.of(message.story, message.story_title) if self.with_story else None

    def _alert_context(self, change: FactChange) -> dict[str, Any]:
        story = self.story_of(change)
        return {
            "subject": alert_subject(change, story),
            "change": ChangeView.of(change),
            "story": story,
        }

    def alert(self, change: FactChange) -> RenderedAlert:
        context = self._alert_context(change)
        return RenderedMessage(
            subject=context["subject"],
            text=self._render("alert.txt.j2", context),
            html=self._render("alert.html.j2", context),
        )

    def digest(self, digest: Digest) -> RenderedDigest:
        context = _digest_context(digest, self.story_of(digest))
        return RenderedMessage(
            subject=context["subject"],
            text=self._render("digest.txt.j2", context),
            html=self._render("digest.html.j2", context),
        )

    def slack_alert(self, change: FactChange) -> str:
        """The plain ``text`` of a Slack alert (notifications, clients without blocks)."""
        return self._render("slack_alert.j2", self._alert_context(change)).strip()

    def slack_digest(self, digest: Digest) -> str:
        """The plain ``text`` of a Slack digest."""
        context = _digest_context(digest, self.story_of(digest))
        return self._render("slack_digest.j2", context).strip()


def load_templates(user_dir: Path | None = None, *, with_story: bool = False) -> Renderer:
    """Compile the templates (``user_dir`` overriding the shipped ones) and try each once.

    ``with_story``: messages name their story (see :class:`Renderer`).
    Raises :class:`TemplateError` naming the file and line of the first problem.
    """
    search_path = [resource_path("templates")]
    if user_dir is not None:
        if not user_dir.is_dir():
            raise TemplateError(f"{user_dir}: templates folder not found")
        search_path.insert(0, user_dir)
    renderer = Renderer(search_path, with_story=with_story)
    renderer.alert(_SAMPLE_CHANGE)
    renderer.slack_alert(_SAMPLE_CHANGE)
    renderer.digest(_SAMPLE_DIGEST)
    renderer.slack_digest(_SAMPLE_DIGEST)
    return renderer


# A change and a digest that use every field, for trying templates at start-up.
_SAMPLE_EVIDENCE = Evidence(
    quote="The base was handed over to Niger's army on Monday.",
    url="https://news.example/niger-base",
    title="US hands over drone base",
    published=date(2024, 8, 5),
)
_SAMPLE_CHANGE = FactChange(
    change_id=0,
    key="sample.status",
    label="Sample status",
    change_type=ChangeType.STATUS_MOVED,
    old="operating",
    new="handed over",
    status="confirmed",
    first_seen=datetime(2024, 8, 5, 12, 0, tzinfo=UTC),
    evidence=(_SAMPLE_EVIDENCE,),
    as_of=date(2024, 8, 5),
    revision=True,
    revised_from=(_SAMPLE_EVIDENCE,),
    story="sample",
    story_title="Sample story",
)
_SAMPLE_DIGEST = Digest(
    title="Sample digest",
    period_start=datetime(2024, 8, 4, 8, 0, tzinfo=UTC),
    period_end=datetime(2024, 8, 5, 8, 0, tzinfo=UTC),
    changes=(_SAMPLE_CHANGE,),
    facts=(
        CurrentFact("sample.status", "Sample status", "handed over", None, _SAMPLE_EVIDENCE),
        CurrentFact("sample.count", "Sample count", None, None, None),
    ),
    outlook=("41 days left to the sample deadline (2024-09-15)",),
    story="sample",
    story_title="Sample story",
)


def sample_change(at: datetime) -> FactChange:
    """The change ``watcher notify test`` sends, marked as a test."""
    return replace(
        _SAMPLE_CHANGE,
        key="watcher.test",
        label="Test message from watcher",
        status="a test: nothing changed",
        first_seen=at,
        revision=False,
        revised_from=(),
        story=None,
        story_title=None,
    )
