"""A fact's values over time, laid out as an SVG chart drawn on the server.

Counts are a step line (each step labelled with its qualifier, "about
1,000"), dates a step line of the date they gave, statuses bands on rows of
their ladder. Readings that disagree with the value are points of their own:
alternatives (what other sources said at the time) and disputes (open
conflicts), drawn apart from the line so a dispute never looks like the value.
The deadline is a dashed line across every chart. Each point links to the
evidence listed under the chart (``#reading-N``).

This module only computes geometry; ``templates/web/_timeline.svg.j2`` draws it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from watcher.alerts.render import REVISION_MARK
from watcher.facts.known import KnownFact, Reading, describe
from watcher.facts.topic import Fact
from watcher.models import Evidence, FactKind

WIDTH, HEIGHT = 760, 280
LEFT, RIGHT, TOP, BOTTOM = 150, 30, 36, 40
MIN_SPAN_DAYS = 30


class Role(StrEnum):
    """What a reading is to the fact: a value it held, or one it did not take."""

    HELD = "held"  # the fact's value from this reading's date until the next one's
    ALTERNATIVE = "alternative"  # another source's reading, kept beside the value
    DISPUTE = "dispute"  # an open conflict with the value


@dataclass(frozen=True)
class TimedReading:
    """A reading with its place in the list under the chart (``reading-<number>``)."""

    number: int
    role: Role
    reading: Reading
    text: str  # described: "about 1,000", "handed over"
    when: date | None  # first reported (see _when); None: cannot be placed
    status: str | None = None  # a dispute's reported/confirmed
    # A value an edited article moved the fact to: what that article said before.
    revised_from: tuple[Evidence, ...] = ()

    @property
    def revision(self) -> bool:
        return bool(self.revised_from)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str
    title: str
    href: str
    role: Role
    right_edge: float = WIDTH - RIGHT
    bottom: float = HEIGHT - BOTTOM

    @property
    def label_x(self) -> float:
        """Labels start right of the point, or end left of it near the chart's right edge
        (clear of a dispute's marker, the widest)."""
        return self.x - 12 if self.anchor == "end" else self.x + 12

    @property
    def label_y(self) -> float:
        """The value a point held is labelled above it; other readings below, so that an
        alternative at the same value and day as the held one stays readable, or above the
        held label when below would run into the axis."""
        if self.role == Role.HELD:
            return self.y - 10
        return self.y + 21 if self.y + 21 < self.bottom - 4 else self.y - 26

    @property
    def anchor(self) -> str:
        return "end" if self.x > self.right_edge - 140 else "start"


@dataclass(frozen=True)
class Band:
    x: float
    y: float
    width: float
    height: float
    label: str
    title: str
    href: str
    rank: int  # place on the ladder, for its colour


@dataclass(frozen=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True)
class Marker:
    x: float
    label: str


@dataclass
class Chart:
    """Everything the template draws, in SVG user units."""

    kind: FactKind
    title: str
    width: int = WIDTH
    height: int = HEIGHT
    plot_left: float = LEFT
    plot_right: float = WIDTH - RIGHT
    plot_top: float = TOP
    plot_bottom: float = HEIGHT - BOTTOM
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    line: str = ""  # an SVG path for the step line of counts and dates
    points: list[Point] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    rows: list[Tick] = field(default_factory=list)  # status ladder rows (y is the row's middle)
    deadlines: list[Marker] = field(default_factory=list)
    empty: bool = False


def revised_from(reading: Reading, previous: Reading | None) -> tuple[Evidence, ...]:
    """What an edited article said before, when its changed text moved the fact from
    ``previous`` to ``reading``: the quotes of ``previous`` from that same article.

    As with a change's ``revision``, it is the reading's first source (the one
    that moved the fact) that must be the later version; an edited article that
    only came to agree with a value another source reported first revises nothing.
    """
    if previous is None or not reading.sources:
        return ()
    if not any(reading.sources[0].revises(e) for e in previous.sources):
        return ()
    return tuple(e for e in previous.sources if any(n.revises(e) for n in reading.sources))


def readings_of(fact: KnownFact) -> list[TimedReading]:
    """The fact's readings in the order the page lists them: values held, oldest first,
    then alternatives and disputes."""
    held = [*fact.history, fact.current]
    previous: list[Reading | None] = [None, *fact.history]
    found: list[tuple[Role, Reading, str | None, tuple[Evidence, ...]]] = [
        *(
            (Role.HELD, r, None, revised_from(r, before))
            for r, before in zip(held, previous, strict=True)
        ),
        *((Role.ALTERNATIVE, r, None, ()) for r in fact.alternatives),
        *((Role.DISPUTE, c.new, c.status, ()) for c in fact.conflicts),
    ]
    return [
        TimedReading(
            number=number,
            role=role,
            reading=reading,
            text=describe(fact.kind, reading.value, reading.qualifier),
            when=_when(reading),
            status=status,
            revised_from=before,
        )
        for number, (role, reading, status, before) in enumerate(found, start=1)
    ]


def _when(reading: Reading) -> date | None:
    """Since when the reading stands: its ``as_of``, or its first source's date if earlier
    (``as_of`` moves on as later sources repeat a value; the chart shows when it began)."""
    days = [e.published for e in reading.sources if e.published]
    if reading.as_of is not None:
        days.append(reading.as_of)
    return min(days) if days else None


def build_chart(fact: Fact, readings: list[TimedReading], deadlines: list[date]) -> Chart:
    """Lay out ``readings`` of ``fact``; ``deadlines`` are marked across the chart."""
    chart = Chart(kind=fact.kind, title=fact.label)
    placed = [r for r in readings if r.when is not None]
    if not placed:
        chart.empty = True
        return chart
    days = [r.when for r in placed if r.when] + deadlines
    start, end = _span(min(days), max(days))
    scale = _TimeScale(start, end, chart.plot_left, chart.plot_right)
    chart.x_ticks = scale.ticks()
    chart.deadlines = [Marker(scale.x(d), f"deadline {d.isoformat()}") for d in deadlines]
    if fact.kind == FactKind.STATUS:
        _lay_out_statuses(chart, fact, placed, scale)
    else:
        _lay_out_values(chart, fact, placed, scale)
    return chart


def _span(first: date, last: date) -> tuple[date, date]:
    """The days shown: every reading and deadline, with a margin on each side."""
    days = max((last - first).days, MIN_SPAN_DAYS)
    margin = timedelta(days=math.ceil(days * 0.08))
    return first - margin, first + timedelta(days=days) + margin


class _TimeScale:
    def __init__(self, start: date, end: date, left: float, right: float) -> None:
        self.start, self.end, self.left, self.right = start, end, left, right
        self.days = (end - start).days

    def x(self, day: date) -> float:
        return round(self.left + (day - self.start).days / self.days * (self.right - self.left), 1)

    def ticks(self) -> list[Tick]:
        """The first of each month (or of each year, over long spans), at most about 8."""
        months = [d for d in _months(self.start, self.end) if d >= self.start]
        step = next((s for s in (1, 2, 3, 6, 12, 24, 60) if len(months) / s <= 8), 120)
        return [
            Tick(self.x(day), str(day.year) if step >= 12 else f"{day:%b %Y}")
            for day in months
            if (day.year * 12 + day.month - 1) % step == 0
        ]


def _href(reading: TimedReading) -> str:
    return f"#reading-{reading.number}"


def _title(reading: TimedReading) -> str:
    """The tooltip: the value, its date and its sources."""
    sources = len({e.site for e in reading.reading.sources})
    count = "1 source" if sources == 1 else f"{sources} sources"
    when = f" as of {reading.when.isoformat()}" if reading.when else ""
    role = {Role.HELD: "", Role.ALTERNATIVE: "also reported: ", Role.DISPUTE: "disputed by: "}
    status = f", {reading.status}" if reading.status else ""
    mark = f", {REVISION_MARK}" if reading.revision else ""
    return f"{role[reading.role]}{reading.text}{when} ({count}{status}{mark})"


def _held_ends(held: list[TimedReading], scale: _TimeScale) -> list[tuple[float, float]]:
    """Each held value's x from its date to the next one's (the last one to the edge).

    Values follow one another in the order the fact took them; a later one
    first reported before its predecessor starts where that one does.
    """
    starts: list[float] = []
    for reading in held:
        assert reading.when is not None
        starts.append(max(scale.x(reading.when), starts[-1] if starts else scale.left))
    return list(zip(starts, [*starts[1:], scale.right], strict=True))


def _lay_out_values(
    chart: Chart, fact: Fact, placed: list[TimedReading], scale: _TimeScale
) -> None:
    """Counts and dates: a step line through the held values; other readings as points."""
    axis = _value_axis(fact.kind, [r.reading for r in placed])

    def y(number: float) -> float:
        share = (number - axis.low) / ((axis.high - axis.low) or 1)
        return round(chart.plot_bottom - share * (chart.plot_bottom - chart.plot_top), 1)

    chart.y_ticks = [Tick(y(value), axis.label(value)) for value in axis.ticks()]
    held = [r for r in placed if r.role == Role.HELD]
    steps: list[str] = []
    for reading, (x0, x1) in zip(held, _held_ends(held, scale), strict=True):
        # Each step starts where the previous one ended: rise (or fall), then run.
        level = y(axis.number(reading.reading))
        steps.append(f"V {level}" if steps else f"M {x0} {level}")
        steps.append(f"H {x1}")
    chart.line = " ".join(steps)
    # Held values last, so they are drawn on top of what others said at the same point.
    for reading in sorted(placed, key=lambda r: r.role == Role.HELD):
        assert reading.when is not None
        chart.points.append(
            Point(
                x=scale.x(reading.when),
                y=y(axis.number(reading.reading)),
                label=reading.text if reading.role != Role.DISPUTE else f"disputed: {reading.text}",
                title=_title(reading),
                href=_href(reading),
                role=reading.role,
            )
        )


@dataclass(frozen=True)
class _ValueAxis:
    """The y axis of counts (0 to a round number above the largest) or dates (day numbers)."""

    kind: FactKind
    low: float
    high: float

    def number(self, reading: Reading) -> float:
        if self.kind == FactKind.DATE:
            return float(date.fromisoformat(str(reading.value)).toordinal())
        return float(int(reading.value))

    def label(self, number: float) -> str:
        if self.kind == FactKind.DATE:
            return f"{date.fromordinal(int(number)):%d %b %Y}"
        return f"{int(number):,}"

    def ticks(self) -> list[float]:
        if self.kind == FactKind.DATE:
            first, last = date.fromordinal(int(self.low)), date.fromordinal(int(self.high))
            months = [d for d in _months(first, last) if d >= first]
            return [float(d.toordinal()) for d in months[:: max(1, math.ceil(len(months) / 6))]]
        step = _nice_step(self.high - self.low)
        return [self.low + i * step for i in range(int((self.high - self.low) / step) + 1)]


def _value_axis(kind: FactKind, readings: list[Reading]) -> _ValueAxis:
    probe = _ValueAxis(kind, 0.0, 0.0)
    numbers = [probe.number(r) for r in readings]
    if kind == FactKind.DATE:
        return _ValueAxis(kind, min(numbers) - 20, max(numbers) + 20)
    return _ValueAxis(kind, 0.0, _nice_ceiling(max(numbers) * 1.2 or 10))


def _months(first: date, last: date) -> list[date]:
    """The first day of every month from ``first``'s to ``last``'s."""
    day, found = date(first.year, first.month, 1), []
    while day <= last:
        found.append(day)
        day = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return found


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _nice_ceiling(value: float) -> float:
    step = _nice_step(value)
    return math.ceil(value / step) * step


def _lay_out_statuses(
    chart: Chart, fact: Fact, placed: list[TimedReading], scale: _TimeScale
) -> None:
    """Statuses: a row per step of the ladder (first at the bottom), the held one as a band."""
    ladder = list(fact.value_names) or sorted({str(r.reading.value) for r in placed})
    for reading in placed:
        if str(reading.reading.value) not in ladder:
            ladder.append(str(reading.reading.value))
    row_height = (chart.plot_bottom - chart.plot_top) / len(ladder)

    def row_top(value: str) -> float:
        return round(chart.plot_bottom - (ladder.index(value) + 1) * row_height, 1)

    chart.rows = [
        Tick(round(row_top(name) + row_height / 2, 1), describe(FactKind.STATUS, name, None))
        for name in ladder
    ]
    held = [r for r in placed if r.role == Role.HELD]
    for reading, (x0, x1) in zip(held, _held_ends(held, scale), strict=True):
        value = str(reading.reading.value)
        chart.bands.append(
            Band(
                x=x0,
                y=round(row_top(value) + row_height * 0.2, 1),
                width=max(round(x1 - x0, 1), 2.0),
                height=round(row_height * 0.6, 1),
                label=reading.text,
                title=_title(reading),
                href=_href(reading),
                rank=ladder.index(value),
            )
        )
    # Held values last, so they are drawn on top of what others said at the same point.
    for reading in sorted(placed, key=lambda r: r.role == Role.HELD):
        assert reading.when is not None
        value = str(reading.reading.value)
        chart.points.append(
            Point(
                x=scale.x(reading.when),
                y=round(row_top(value) + row_height / 2, 1),
                label="" if reading.role == Role.HELD else reading.text,
                title=_title(reading),
                href=_href(reading),
                role=reading.role,
            )
        )
