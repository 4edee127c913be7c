"""Whether a feed item may be about a followed story, from its title and summary alone.

A general news feed carries mostly items about something else. Before an
article is downloaded, its item's title and summary are looked at: an item
that names none of a story's places, actors (the subject, the host and its
forces) or facilities (its bases) is not fetched. The names are the topic's
own, compiled as the fact reader compiles them (:func:`watcher.facts.names.names_of`),
so "Nigeria" does not pass for Niger, nor "French troops" for US forces. An item
passes when it names something of any story followed.
"""

from __future__ import annotations

from collections.abc import Iterable

from watcher.facts.names import Names, Party, names_of
from watcher.facts.topic import Topic

_STORY_PARTIES = (Party.SUBJECT, Party.HOST)


class Relevance:
    """The names of the stories followed, ready to look for in item titles and summaries."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self._names = [names_of(topic) for topic in topics]

    def names_a_story(self, text: str) -> bool:
        """Whether ``text`` names a place, actor or facility of any story."""
        return any(_names_story(names, text) for names in self._names)

    def worth_fetching(self, title: str | None, summary: str | None) -> bool:
        """Whether an item's article may be about a story: it names something of one,
        or says nothing to judge it by (no title, no summary)."""
        text = " ".join(part for part in (title, summary) if part and part.strip())
        return not text or self.names_a_story(text)


def _names_story(names: Names, text: str) -> bool:
    if names.bases is not None and names.bases.search(text):
        return True
    confused = bool(names.confused and names.confused.search(text))
    for match in names.pattern.finditer(text):
        named = names.lookup(match.group(), confused)
        if named is not None and named.party in _STORY_PARTIES:
            return True
    return False
