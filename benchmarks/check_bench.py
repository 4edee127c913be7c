"""Sections 2 and 3: ``watcher check`` as a user runs it, cold and warm.

Each pass is a child process (its own peak memory, its start-up included);
the state lives in a fresh temporary folder with a generated config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.pages import Page
from benchmarks.procs import ChildRun, median, run_child, venv_bin
from benchmarks.server import BenchServer, MixedSite, StaticSite
from benchmarks.watcherconf import SourceSpec, state_counts, write_config

# `watcher check` exits 0 (nothing new) or 1 (something new); 2 is trouble.
CHECK_OK = (0, 1)


class BenchError(Exception):
    """A measurement that could not be made; ``str()`` says why in one line."""


@dataclass(frozen=True)
class Workspace:
    folder: Path
    config: Path
    sources: int

    @property
    def database(self) -> Path:
        return self.folder / "watcher.db"


def watcher_check(workspace: Workspace, *, expect: tuple[int, ...] = CHECK_OK) -> ChildRun:
    run = run_child(
        [venv_bin("watcher"), "check", "--config", str(workspace.config)], cwd=workspace.folder
    )
    if run.returncode not in expect:
        raise BenchError(f"watcher check exited {run.returncode} (expected {expect}): {run.tail()}")
    return run


def startup_seconds(repeat: int = 5) -> float:
    """Wall time of ``watcher --version``: the interpreter and the console script."""
    return median([run_child([venv_bin("watcher"), "--version"]).wall_s for _ in range(repeat)])


def make_workspace(
    server: BenchServer, folder: Path, site: StaticSite, *, max_per_source: int = 200
) -> Workspace:
    server.add(site)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [
        SourceSpec(f"{site.name}-{f}", server.feed_url(site.name, f)) for f in range(site.feeds)
    ]
    config = write_config(folder, sources, max_per_source=max_per_source)
    return Workspace(folder, config, len(sources))


def cold_pass(
    server: BenchServer, folder: Path, pages: list[Page], feeds: int, items: int, name: str = "cold"
) -> dict[str, Any]:
    """One first pass over ``feeds`` x ``items`` new articles on real pages."""
    site = StaticSite(name, feeds, items, pages)
    workspace = make_workspace(server, folder, site, max_per_source=items)
    server.conditional = True
    server.take_counts()
    run = watcher_check(workspace)
    served = server.take_counts()
    counts = state_counts(workspace.database)
    attempted = feeds * items
    return {
        "feeds": feeds,
        "items_per_feed": items,
        "articles_attempted": attempted,
        "articles_stored": counts.get("articles", 0),
        "articles_failed": attempted - counts.get("items_done", 0),
        "exit_status": run.returncode,
        "wall_s": run.wall_s,
        "articles_per_s": attempted / run.wall_s,
        "per_article_ms": 1000 * run.wall_s / attempted,
        # The whole process tree (the check, its fork server and workers), sampled:
        # proportional (shared pages counted once), and resident (counted in each).
        "peak_tree_pss_mb": run.peak_tree_pss_mb,
        "peak_tree_rss_mb": run.peak_tree_rss_mb,
        "peak_rss_process_mb": run.peak_rss_mb,
        "served": served,
    }


def mixed_pass(
    server: BenchServer, folder: Path, pages: list[Page], fetch: str, items: int, every: int
) -> dict[str, Any]:
    """A first pass over one general news feed of ``items`` real pages, one item in
    ``every`` titled after a seed article (about the story), the rest with their
    own titles: how much ``fetch = "relevant"`` saves against ``fetch = "all"``."""
    site = MixedSite(f"mixed-{fetch}", items, every, pages)
    server.add(site)
    folder.mkdir(parents=True, exist_ok=True)
    sources = [SourceSpec("news", server.feed_url(site.name, 0), fetch=fetch)]
    workspace = Workspace(folder, write_config(folder, sources, max_per_source=items), 1)
    server.take_counts()
    run = watcher_check(workspace)
    counts = state_counts(workspace.database)
    return {
        "fetch": fetch,
        "items": items,
        "about_the_story": len(site.relevant),
        "wall_s": run.wall_s,
        "articles_fetched": server.take_counts().get("article", 0),
        "articles_stored": counts.get("articles", 0),
        "items_unrelated": counts.get("items_unrelated", 0),
        "peak_tree_pss_mb": run.peak_tree_pss_mb,
    }


def prime_warm(
    server: BenchServer, folder: Path, pages: list[Page], sources: int, items: int
) -> tuple[Workspace, dict[str, Any]]:
    """A state that has seen ``sources`` feeds of ``items`` small articles each."""
    site = StaticSite("warm", sources, items, pages, stub=True)
    workspace = make_workspace(server, folder, site)
    server.conditional = True
    server.take_counts()
    run = watcher_check(workspace)
    counts = state_counts(workspace.database)
    if counts.get("items_done", 0) != sources * items:
        raise BenchError(f"priming the warm state stored {counts} of {sources * items} items")
    attempted = sources * items
    return workspace, {
        "sources": sources,
        "items_per_source": items,
        "articles": attempted,
        "wall_s": run.wall_s,
        "articles_per_s": attempted / run.wall_s,
        "peak_rss_mb": run.peak_rss_mb,
        "served": server.take_counts(),
    }


def warm_passes(
    server: BenchServer, workspace: Workspace, *, conditional: bool, repeat: int
) -> dict[str, Any]:
    """``repeat`` passes that find nothing new; the median is the figure."""
    server.conditional = conditional
    watcher_check(workspace, expect=(0,))  # settles validators after a change of mode
    server.take_counts()
    runs = [watcher_check(workspace, expect=(0,)) for _ in range(repeat)]
    served = server.take_counts()
    wall = median([r.wall_s for r in runs])
    server.conditional = True
    return {
        "server": "answers 304" if conditional else "ignores conditional GET",
        "sources": workspace.sources,
        "passes": repeat,
        "wall_s": wall,
        "wall_s_all": [r.wall_s for r in runs],
        "sources_per_s": workspace.sources / wall,
        "peak_rss_mb": max(r.peak_rss_mb for r in runs),
        "served": served,
    }
