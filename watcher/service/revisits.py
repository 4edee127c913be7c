"""When an article is fetched again: often while it is fresh, less and less as it ages.

Agencies edit an article in place as numbers firm up, mostly in its first
hours. An article is fetched again ``articles.revisit_after`` after it was
first fetched, then each time twice as long after the first fetch (1 h, 2 h,
4 h, 8 h...), and no more once ``articles.revisit`` has passed. Each revisit
is a conditional GET, so an unchanged page costs a 304.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from watcher.config import ArticleSettings


def next_revisit(
    first_fetched: datetime, settings: ArticleSettings, *, after: datetime
) -> datetime | None:
    """The first revisit time later than ``after``; None when the window holds no more.

    Times already passed (the daemon was stopped, a pass ran late) are skipped, not
    caught up one pass at a time.
    """
    if settings.revisit <= 0:
        return None
    age = settings.revisit_after
    while age <= settings.revisit:
        when = first_fetched + timedelta(seconds=age)
        if when > after:
            return when
        age *= 2
    return None
