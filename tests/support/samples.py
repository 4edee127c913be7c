"""Sample changes, evidence and digests, hostile text included, for rendering and sending."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from watcher.models import CurrentFact, Digest, Evidence, FactChange

HOSTILE = (
    '<script>alert("x")</script> <!channel> <@U123> <http://evil.example|click> '
    "Tom & Jerry \x1b[31mred\x1b[0m"
)


def evidence(
    quote: str = "Air Base 201 was handed over to Niger's armed forces on Monday.",
    url: str = "https://news-a.example/world/niger-base",
    title: str | None = "US hands over drone base in Agadez",
    published: date | None = date(2024, 8, 5),
) -> Evidence:
    return Evidence(quote=quote, url=url, title=title, published=published)


def change(
    *sources: Evidence,
    label: str = "Air Base 201 status",
    old: str | None = "operating",
    new: str = "handed over",
    status: str = "confirmed",
    key: str = "bases.air_base_201.status",
) -> FactChange:
    return FactChange(
        change_id=7,
        key=key,
        label=label,
        change_type="changed",
        old=old,
        new=new,
        status=status,
        first_seen=datetime(2024, 8, 5, 12, 30, tzinfo=UTC),
        evidence=sources or (evidence(),),
        as_of=date(2024, 8, 5),
    )


def digest(*changes: FactChange, outlook: tuple[str, ...] = ()) -> Digest:
    paris = ZoneInfo("Europe/Paris")
    return Digest(
        title="Daily digest: US forces in Niger",
        period_start=datetime(2024, 8, 11, 8, 0, tzinfo=paris),
        period_end=datetime(2024, 8, 12, 8, 0, tzinfo=paris),
        changes=changes,
        facts=(
            CurrentFact(
                "us_forces.withdrawal_deadline",
                "Withdrawal deadline",
                "2024-09-15",
                date(2024, 5, 19),
                evidence(
                    quote="US troops will leave Niger by September 15.",
                    url="https://news-b.example/deadline",
                    title="Pentagon confirms the deadline",
                    published=date(2024, 5, 19),
                ),
            ),
            CurrentFact("us_forces.troop_count", "US troops in Niger", None, None, None),
        ),
        outlook=outlook,
    )
