"""``benchmarks/run``: every measurement in one run, a table, and JSON.

Sections (all by default; pick with --only or drop with --skip):
  raw       trafilatura over the pages, one process and all cores
  cold      a first `watcher check` over each of --cold-articles new articles
  mixed     a general news feed: fetch = "relevant" against fetch = "all"
  warm      `watcher check` with nothing new over --warm-sources sources
  facts     extract_facts alone, per article
  memory    the daemon's passes in one process: time, RSS and open files
  urlwatch  urlwatch over the same feeds, cold and warm
  profile   a cold pass sampled by stage (HTTP, feed parse, extraction, facts,
            database), in the main process and in the workers
  imports   `python -X importtime` of a warm check, by package
"""

from __future__ import annotations

import argparse
import compileall
import json
import math
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import trafilatura

import watcher
from benchmarks.check_bench import (
    Workspace,
    cold_pass,
    mixed_pass,
    prime_warm,
    startup_seconds,
    warm_passes,
)
from benchmarks.facts_bench import measure_facts
from benchmarks.pages import DEFAULT_PAGES, REPO, Page, SetupError, load_pages
from benchmarks.passes import measure_passes
from benchmarks.raw import measure_raw, timed_map, watcher_one, worker_pool
from benchmarks.report import build_rows, print_table
from benchmarks.server import BenchServer, StaticSite
from benchmarks.stages import importtime, profile_pass
from benchmarks.urlwatch_bench import Unavailable, ensure_urlwatch, measure_urlwatch

SECTIONS = ("raw", "cold", "mixed", "warm", "facts", "memory", "urlwatch", "profile", "imports")
RESULTS = Path(__file__).resolve().parent / "results" / "latest.json"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="benchmarks/run",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = parser.add_argument
    add("--pages", type=Path, default=DEFAULT_PAGES, help="folder of pages with MANIFEST.tsv")
    add("--only", metavar="SECTIONS", help="comma-separated sections to run (default: all)")
    add("--skip", metavar="SECTION", action="append", default=[], choices=SECTIONS)
    add(
        "--cold-articles",
        default="300,5000",
        help="cold passes: new articles in each, comma-separated (default 300,5000)",
    )
    add("--feeds", type=int, help="cold passes: feeds (default 10, or 25 over 1,000 articles)")
    add("--mixed-items", type=int, default=300, help="mixed: items in the feed (default 300)")
    add("--mixed-every", type=int, default=10, help="mixed: one item in N about the story")
    add("--raw-pages", type=int, default=600, help="raw: at most this many extractions")
    add("--workers", type=int, default=os.cpu_count() or 1, help="raw: processes (all cores)")
    add("--warm-sources", type=int, default=200, help="warm: sources (default 200)")
    add("--warm-items", type=int, default=20, help="warm: items per source (default 20)")
    add("--repeat", type=int, default=3, help="warm, urlwatch: passes timed (median)")
    add("--facts-rounds", type=int, default=3, help="facts: runs over each corpus (best kept)")
    add("--passes", type=int, default=1000, help="memory: passes in one process (1000)")
    add("--sample-every", type=int, default=50, help="memory: RSS sample every K passes")
    add(
        "--memory-mode",
        choices=("304", "200"),
        default="200",
        help="memory: the server answers 304, or ignores conditional GET (default)",
    )
    add(
        "--profile-articles",
        type=int,
        default=300,
        help="profile: new articles in the sampled cold pass (default 300)",
    )
    add("--no-urlwatch-install", action="store_true", help="urlwatch: never pip install it")
    add("--json", type=Path, default=RESULTS, help=f"results file (default {RESULTS})")
    add("--keep", action="store_true", help="keep the temporary state folder")
    args = parser.parse_args(argv)
    try:
        args.cold_sizes = [int(n) for n in args.cold_articles.split(",") if n.strip()]
    except ValueError:
        parser.error(f"--cold-articles: not numbers: {args.cold_articles!r}")
    args.sections = _sections(parser, args)
    return args


def cold_shape(articles: int, feeds: int | None) -> tuple[int, int]:
    """Feeds and items per feed for a cold pass of about ``articles`` new articles."""
    feeds = feeds or (10 if articles <= 1000 else 25)
    return feeds, math.ceil(articles / feeds)


def _sections(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    chosen = args.only.split(",") if args.only else list(SECTIONS)
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in chosen and s not in args.skip]


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@dataclass
class Bench:
    """What the sections share: options, corpus, server, scratch folder, results."""

    args: argparse.Namespace
    pages: list[Page]
    server: BenchServer
    tmp: Path
    results: dict[str, Any] = field(default_factory=dict)
    _warm: Workspace | None = None

    def cold_indices(self) -> list[int]:
        """The pages the largest cold pass shows, in order, as many as raw should extract."""
        feeds, items = cold_shape(max(self.args.cold_sizes, default=300), self.args.feeds)
        site = StaticSite("cold", feeds, items, self.pages)
        every = [site.page_index(f, i) for f in range(feeds) for i in range(items)]
        return every[: self.args.raw_pages]

    def warm_site(self) -> StaticSite:
        site = StaticSite(
            "warm", self.args.warm_sources, self.args.warm_items, self.pages, stub=True
        )
        self.server.add(site)
        return site

    def warm_workspace(self) -> Workspace:
        """The primed warm state, made on first use."""
        if self._warm is None:
            say(f"priming {self.args.warm_sources} warm sources")
            self._warm, prime = prime_warm(
                self.server,
                self.tmp / "warm",
                self.pages,
                self.args.warm_sources,
                self.args.warm_items,
            )
            self.results["prime"] = prime
        return self._warm


# -- sections ------------------------------------------------------------------------


def section_raw(bench: Bench) -> dict[str, Any]:
    indices = bench.cold_indices()
    say(f"raw: {len(indices)} extractions, 1 process then {bench.args.workers}")
    return measure_raw(bench.pages, bench.args.pages, indices, bench.args.workers)


def section_cold(bench: Bench) -> dict[str, Any]:
    passes = []
    for size in bench.args.cold_sizes:
        feeds, items = cold_shape(size, bench.args.feeds)
        say(f"cold: watcher check over {feeds} feeds x {items} items")
        folder = bench.tmp / f"cold-{size}"
        passes.append(cold_pass(bench.server, folder, bench.pages, feeds, items, f"cold{size}"))
    return {"passes": passes}


def section_mixed(bench: Bench) -> dict[str, Any]:
    args = bench.args
    result = {}
    for fetch in ("all", "relevant"):
        say(f"mixed: one feed of {args.mixed_items} items, fetch = {fetch!r}")
        folder = bench.tmp / f"mixed-{fetch}"
        result[fetch] = mixed_pass(
            bench.server, folder, bench.pages, fetch, args.mixed_items, args.mixed_every
        )
    return result


def section_warm(bench: Bench) -> dict[str, Any]:
    workspace = bench.warm_workspace()
    say(f"warm: {bench.args.repeat} passes per server mode")
    result: dict[str, Any] = {"startup_s": startup_seconds()}
    for key, conditional in (("warm_304", True), ("warm_200", False)):
        result[key] = warm_passes(
            bench.server, workspace, conditional=conditional, repeat=bench.args.repeat
        )
    return result


def section_facts(bench: Bench) -> dict[str, Any]:
    say(f"facts: extracting {len(bench.pages)} pages, then extract_facts on each")
    with worker_pool(bench.args.pages, bench.args.workers) as pool:
        _, extracted = timed_map(pool, watcher_one, list(range(len(bench.pages))))
    articles = [a for a in extracted if a is not None]
    return measure_facts(articles, bench.args.facts_rounds)


def section_memory(bench: Bench) -> dict[str, Any]:
    workspace = bench.warm_workspace()
    args = bench.args
    say(f"memory: {args.passes} passes in one process, server answers {args.memory_mode}")
    bench.server.conditional = args.memory_mode == "304"
    try:
        result = measure_passes(workspace.config, workspace.sources, args.passes, args.sample_every)
    finally:
        bench.server.conditional = True
    result["server"] = args.memory_mode
    return result


def section_urlwatch(bench: Bench) -> dict[str, Any]:
    site = bench.warm_site()
    urls = [bench.server.feed_url(site.name, f) for f in range(site.feeds)]
    try:
        exe = ensure_urlwatch(install=not bench.args.no_urlwatch_install)
        say(f"urlwatch: cold, then {bench.args.repeat} warm passes per server mode")
        return measure_urlwatch(bench.server, exe, bench.tmp / "urlwatch", urls, bench.args.repeat)
    except Unavailable as exc:
        print(f"urlwatch: not available ({exc})", flush=True)
        return {"unavailable": str(exc)}


def section_profile(bench: Bench) -> dict[str, Any]:
    feeds, items = cold_shape(bench.args.profile_articles, bench.args.feeds)
    say(f"profile: a sampled watcher check over {feeds} feeds x {items} items")
    folder = bench.tmp / f"profile-{feeds * items}"
    return profile_pass(bench.server, folder, bench.pages, feeds, items)


def section_imports(bench: Bench) -> dict[str, Any]:
    workspace = bench.warm_workspace()
    say(f"imports: python -X importtime on {bench.args.repeat} warm checks (304)")
    bench.server.conditional = True
    return importtime(workspace, bench.args.repeat)


RUNNERS: dict[str, Callable[[Bench], dict[str, Any]]] = {
    "raw": section_raw,
    "cold": section_cold,
    "mixed": section_mixed,
    "warm": section_warm,
    "facts": section_facts,
    "memory": section_memory,
    "urlwatch": section_urlwatch,
    "profile": section_profile,
    "imports": section_imports,
}


def run_section(bench: Bench, name: str) -> None:
    started = time.perf_counter()
    try:
        bench.results[name] = RUNNERS[name](bench)
    except Exception as exc:  # one section's failure must not lose the others' figures
        say(f"{name}: error: {type(exc).__name__}: {exc}")
        bench.results[name] = {
            **bench.results.get(name, {}),
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    bench.results[name]["section_s"] = time.perf_counter() - started


# -- output ------------------------------------------------------------------------


def _commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return None
    return done.stdout.strip() or None


def metadata(args: argparse.Namespace, started: datetime) -> dict[str, Any]:
    options = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    return {
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "commit": _commit(),
        "watcher": watcher.__version__,
        "trafilatura": trafilatura.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "options": options,
    }


def write_json(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


def compile_watcher() -> None:
    """Write the bytecode of watcher's modules, as installing the wheel does.

    A checkout whose environment sets PYTHONDONTWRITEBYTECODE never gets it,
    and every child would compile watcher from source (about 80 ms of a warm
    check), which no installed watcher pays and urlwatch, installed with pip,
    does not pay either.
    """
    compileall.compile_dir(Path(watcher.__file__).parent, quiet=1)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    try:
        pages = load_pages(args.pages)
    except SetupError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2
    compile_watcher()
    tmp = Path(tempfile.mkdtemp(prefix="watcher-bench-"))
    try:
        with BenchServer() as server:
            bench = Bench(args, pages, server, tmp)
            say(f"{len(pages)} pages from {args.pages}; server on {server.base}; state in {tmp}")
            for name in args.sections:
                run_section(bench, name)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    rows = build_rows(bench.results)
    print()
    print_table(rows, sys.stdout)
    write_json(
        args.json,
        {
            "meta": metadata(args, started),
            "results": bench.results,
            "table": [asdict(r) for r in rows],
        },
    )
    print(f"\nresults written to {args.json}")
    return 0
