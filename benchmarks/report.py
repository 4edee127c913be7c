"""The figures as a table, each against its target where the project set one.

A verdict says whether a figure meets its target; it is information, not a
test result: the benchmark always exits 0 once it has measured.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, TextIO

# The project's targets (issue 14).
COLD_VS_RAW = 0.85  # cold pass rate / all-core raw extraction rate, at least (300 and 5,000)
FACTS_SHARE = 0.10  # fact extraction / per-article time of a cold pass, below
WARM_VS_URLWATCH = 0.5  # watcher's warm one-shot check / urlwatch's on the same URLs, at most
STARTUP_SECONDS = 0.150  # `watcher --version`, at most
DAEMON_PASS_SECONDS = 0.2  # one in-process daemon pass over 200 unchanged sources, at most
PEAK_MB = 300.0  # peak memory of a 5,000-article cold pass, all processes, below
PEAK_AT_ARTICLES = 5000
FLAT_KB_PER_PASS = 10.0  # RSS growth per pass after the first, at most


@dataclass(frozen=True)
class Row:
    section: str
    figure: str
    value: str
    target: str = ""
    ratio: str = ""
    verdict: str = ""


def _num(value: float, unit: str = "", digits: int = 3) -> str:
    text = f"{value:.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return f"{text} {unit}".strip()


def _verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def _get(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def raw_rows(r: dict[str, Any]) -> list[Row]:
    cores = f"{r['workers']} processes"
    return [
        Row("raw", "trafilatura.extract, 1 core", _num(r["one_core_pages_per_s"], "pages/s")),
        Row("raw", f"trafilatura.extract, {cores}", _num(r["all_cores_pages_per_s"], "pages/s")),
        Row(
            "raw",
            "watcher extract_html, 1 core",
            _num(r["watcher_extract_one_core_pages_per_s"], "pages/s"),
        ),
    ]


def cold_rows(c: dict[str, Any], results: dict[str, Any]) -> list[Row]:
    return [row for one in c["passes"] for row in _cold_pass_rows(one, results)]


def _cold_pass_rows(c: dict[str, Any], results: dict[str, Any]) -> list[Row]:
    n = c["articles_attempted"]
    rows = [
        Row("cold", f"watcher check, {n:,} new articles", _num(c["articles_per_s"], "articles/s")),
        Row("cold", "  time per article (wall / articles)", _num(c["per_article_ms"], "ms")),
    ]
    raw = _get(results, "raw", "all_cores_pages_per_s")
    if raw:
        ratio = c["articles_per_s"] / raw
        rows.append(
            Row(
                "cold",
                "  vs all-core raw trafilatura (same pages, same run)",
                _num(ratio, "x"),
                f">= {COLD_VS_RAW}",
                _num(ratio / COLD_VS_RAW),
                _verdict(ratio >= COLD_VS_RAW),
            )
        )
    pss, rss = c["peak_tree_pss_mb"], c["peak_tree_rss_mb"]
    label = f"  peak memory, all processes ({n:,} articles)"
    value = f"{_num(pss, 'MB')} PSS ({_num(rss, 'MB')} RSS summed)"
    target = f"< {PEAK_MB:g} MB at {PEAK_AT_ARTICLES:,}"
    if n >= PEAK_AT_ARTICLES:
        rows.append(Row("cold", label, value, target, _num(pss / PEAK_MB), _verdict(pss < PEAK_MB)))
    else:
        rows.append(Row("cold", label, value))
    return rows


def mixed_rows(m: dict[str, Any]) -> list[Row]:
    every, relevant = m["all"], m["relevant"]
    rows = []
    for run in (every, relevant):
        rows.append(
            Row(
                "mixed",
                f"general feed, {run['items']} items ({run['about_the_story']} about the story), "
                f"fetch = {run['fetch']!r}",
                f"{_num(run['wall_s'], 's')}, {run['articles_fetched']} pages fetched",
            )
        )
    saved = 1 - relevant["wall_s"] / every["wall_s"]
    pages_saved = 1 - relevant["articles_fetched"] / max(1, every["articles_fetched"])
    rows.append(
        Row(
            "mixed",
            "  saved by fetch = 'relevant'",
            f"{saved:.0%} of the time, {pages_saved:.0%} of the pages",
        )
    )
    return rows


def prime_rows(p: dict[str, Any]) -> list[Row]:
    label = f"priming pass, {p['sources']} sources, {p['articles']:,} small articles"
    return [Row("warm", label, _num(p["articles_per_s"], "articles/s"))]


def warm_rows(w: dict[str, Any], results: dict[str, Any]) -> list[Row]:
    startup = w["startup_s"]
    rows = [
        Row(
            "warm",
            "watcher --version (start-up)",
            _num(startup, "s"),
            f"<= {STARTUP_SECONDS:g} s",
            _num(startup / STARTUP_SECONDS),
            _verdict(startup <= STARTUP_SECONDS),
        )
    ]
    urlwatch = results.get("urlwatch") or {}
    for key in ("warm_304", "warm_200"):
        pass_ = w[key]
        wall = pass_["wall_s"]
        rows.append(
            Row(
                "warm",
                f"watcher check, {pass_['sources']} sources, server {pass_['server']}",
                _num(wall, "s"),
            )
        )
        theirs = _get(urlwatch, key, "wall_s")
        if theirs:
            ratio = wall / theirs
            rows.append(
                Row(
                    "warm",
                    f"  vs urlwatch on the same URLs ({_num(theirs, 's')})",
                    _num(ratio, "x"),
                    f"<= {WARM_VS_URLWATCH:g}x",
                    _num(ratio / WARM_VS_URLWATCH),
                    _verdict(ratio <= WARM_VS_URLWATCH),
                )
            )
    return rows


def facts_rows(f: dict[str, Any], results: dict[str, Any]) -> list[Row]:
    # The largest cold pass: its time per article is the steadiest.
    passes = _get(results, "cold", "passes") or []
    per_article = passes[-1]["per_article_ms"] if passes else None
    rows = []
    labels = {
        "pages": "bench pages (as extracted)",
        "seeds": "seed articles (on-topic)",
        "on_topic_long": "seed + page text (on-topic, long)",
    }
    for key, label in labels.items():
        corpus = f[key]
        value = f"{_num(corpus['mean_ms'], 'ms')} (p95 {_num(corpus['p95_ms'], 'ms')})"
        if per_article and key != "seeds":
            share = corpus["mean_ms"] / per_article
            rows.append(
                Row(
                    "facts",
                    f"extract_facts, {label}",
                    value,
                    f"< {FACTS_SHARE:.0%} of cold",
                    f"{share:.1%}",
                    _verdict(share < FACTS_SHARE),
                )
            )
        else:
            rows.append(Row("facts", f"extract_facts, {label}", value))
    return rows


def memory_rows(m: dict[str, Any]) -> list[Row]:
    settled = m["rss_growth_kb_per_pass_second_half"]
    pass_s = m["median_pass_s"]
    rss = f"{m['rss_after_first_mb']:.1f} -> {m['rss_last_mb']:.1f} MB"
    return [
        Row(
            "memory",
            f"daemon pass in one process, {m['sources']} sources, server {m['server']}",
            _num(pass_s, "s/pass"),
            f"<= {DAEMON_PASS_SECONDS:g} s",
            _num(pass_s / DAEMON_PASS_SECONDS),
            _verdict(pass_s <= DAEMON_PASS_SECONDS),
        ),
        Row("memory", f"  RSS after pass 1 -> pass {m['passes']}", rss),
        Row("memory", "  RSS growth per pass, all", _num(m["rss_growth_kb_per_pass"], "kB/pass")),
        Row(
            "memory",
            "  RSS growth per pass, second half",
            _num(settled, "kB/pass"),
            f"<= {FLAT_KB_PER_PASS:g} kB/pass",
            "",
            _verdict(settled <= FLAT_KB_PER_PASS),
        ),
        Row(
            "memory",
            "  open files after pass 1 -> last",
            f"{m['fds_first']} -> {m['fds_last']}",
            "flat",
            "",
            _verdict(m["fds_last"] <= m["fds_first"]),
        ),
    ]


def urlwatch_rows(u: dict[str, Any]) -> list[Row]:
    if "unavailable" in u:
        return [Row("urlwatch", "urlwatch", f"not available ({u['unavailable']})")]
    return [
        Row("urlwatch", f"{u['version']} start-up (--version)", _num(u["startup_s"], "s")),
        Row("urlwatch", f"urlwatch cold, {u['sources']} feeds", _num(u["cold_wall_s"], "s")),
        Row("urlwatch", "urlwatch warm, server answers 304", _num(u["warm_304"]["wall_s"], "s")),
        Row(
            "urlwatch",
            "urlwatch warm, server ignores conditional GET",
            _num(u["warm_200"]["wall_s"], "s"),
        ),
    ]


def profile_rows(p: dict[str, Any]) -> list[Row]:
    wall = p["wall_s"]
    rows = [
        Row(
            "profile",
            f"sampled cold pass, {p['articles']} articles",
            f"{_num(wall, 's')} wall, main process CPU {_num(p['main_cpu_s'], 's')}",
        ),
        Row(
            "profile",
            "  articles read in the main process / in workers",
            f"{p['articles_in_main']} / {p['articles_in_workers']}",
        ),
    ]
    if p.get("first_worker_article_s") is not None:
        rows.append(
            Row(
                "profile",
                "  first article read by a worker, after",
                _num(p["first_worker_article_s"], "s"),
                "",
                _pct(p["first_worker_article_s"], wall),
            )
        )
    for stage, seconds in p["main_busy_s"].items():
        if seconds >= 0.01:
            rows.append(
                Row(
                    "profile",
                    f"  main process, {stage}",
                    _num(seconds, "s"),
                    "",
                    _pct(seconds, wall),
                )
            )
    idle = p["main_threads"].get("MainThread", {}).get("idle", 0.0)
    rows.append(
        Row("profile", "  main thread (event loop) idle", _num(idle, "s"), "", _pct(idle, wall))
    )
    workers = p["workers"]
    if workers:
        extraction = sum(w["extraction_s"] for w in workers)
        facts = sum(w["facts_s"] for w in workers)
        cpu_x = sum(w.get("extraction_cpu_s", 0.0) for w in workers)
        cpu_f = sum(w.get("facts_cpu_s", 0.0) for w in workers)
        busy = sum(w["task_s"] for w in workers) / max(sum(w["span_s"] for w in workers), 1e-9)
        rows.append(
            Row(
                "profile",
                f"  {len(workers)} workers (in turn), extraction / facts, wall (CPU)",
                f"{extraction:.2f} / {facts:.2f} s ({cpu_x:.2f} / {cpu_f:.2f})",
                "",
                f"busy {busy:.0%}",
            )
        )
    return rows


def _pct(part: float, whole: float) -> str:
    return f"{part / whole:.0%}" if whole else ""


def imports_rows(i: dict[str, Any]) -> list[Row]:
    rows = [
        Row(
            "imports",
            "warm check (304), python -X importtime: imports / wall",
            f"{_num(i['import_s'], 's')} / {_num(i['wall_s'], 's')}",
            "",
            _pct(i["import_s"], i["wall_s"]),
        )
    ]
    for name, seconds in list(i["packages_s"].items())[:10]:
        rows.append(Row("imports", f"  {name}", _num(seconds * 1000, "ms")))
    return rows


Builder = Callable[[dict[str, Any], dict[str, Any]], list[Row]]

BUILDERS: dict[str, Builder] = {
    "raw": lambda r, _: raw_rows(r),
    "cold": cold_rows,
    "mixed": lambda m, _: mixed_rows(m),
    "prime": lambda p, _: prime_rows(p),
    "warm": warm_rows,
    "facts": facts_rows,
    "memory": lambda m, _: memory_rows(m),
    "urlwatch": lambda u, _: urlwatch_rows(u),
    "profile": lambda p, _: profile_rows(p),
    "imports": lambda i, _: imports_rows(i),
}


def build_rows(results: dict[str, Any]) -> list[Row]:
    rows: list[Row] = []
    for section, builder in BUILDERS.items():
        data = results.get(section)
        if data is None:
            continue
        if "error" in data:
            rows.append(Row(section, "error (see the JSON)", data["error"][:70]))
            continue
        rows.extend(builder(data, results))
    return rows


def print_table(rows: list[Row], out: TextIO) -> None:
    header = Row("section", "figure", "value", "target", "ratio", "verdict")
    table = [header, *rows]
    columns = list(asdict(header))
    widths = {c: max(len(getattr(r, c)) for r in table) for c in columns}
    for n, row in enumerate(table):
        out.write("  ".join(getattr(row, c).ljust(widths[c]) for c in columns).rstrip() + "\n")
        if n == 0:
            out.write("  ".join("-" * widths[c] for c in columns) + "\n")
