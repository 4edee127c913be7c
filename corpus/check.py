"""Check the corpus labels, fingerprint saved texts, and assign splits.

    python corpus/check.py                  every labels file: shapes, ids, splits, texts
    python corpus/check.py --hash FILE ...  the fingerprint (sha256) of saved texts
    python corpus/check.py --split STORY    the dev/test split of a story's articles

The fingerprint and the split are watcher's own (watcher/facts/corpus.py),
so that what this script checks is what `watcher eval corpus` reads.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from datetime import date
from pathlib import Path

from watcher.facts.corpus import fingerprint
from watcher.facts.corpus import split_of as corpus_split

HERE = Path(__file__).resolve().parent
LABELS = HERE / "labels"
TEXTS = HERE / "texts"

KINDS = ("update", "restatement", "distractor")
QUALIFIERS = ("exact", "about", "more_than", "fewer_than", "between")
STATUS_VALUES = {
    "withdrawal_status": ("agreed", "in_progress", "completed"),
    "base": ("operating", "withdrawing", "handed_over"),
    "agreement": ("in_force", "suspended", "ended"),
}


def split_of(urls: list[str]) -> dict[str, str]:
    return {url: corpus_split(url).value for url in urls}


def check_file(path: Path) -> list[str]:
    problems: list[str] = []

    def bad(where: str, what: str) -> None:
        problems.append(f"{path.name}: {where}: {what}")

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        return [f"{path.name}: not valid TOML: {exc}"]
    for field in ("story", "title", "subject", "subject_names", "place_names"):
        if field not in data:
            bad("(top level)", f"{field} missing")
    story, subject = data.get("story", ""), data.get("subject", "")
    if story and path.stem != story:
        bad("story", f"{story!r} should match the file name {path.stem!r}")
    bases = data.get("bases", {})
    agreements = data.get("agreements", {})
    articles = data.get("article", [])
    ids: set[str] = set()
    expected_split = split_of([a.get("url", "") for a in articles])
    for index, article in enumerate(articles):
        where = f"article[{index}] ({article.get('id', '?')})"
        for field in ("id", "url", "site", "split", "kind", "query", "sha256", "facts"):
            if field not in article:
                bad(where, f"{field} missing")
        unknown = set(article) - {
            "id",
            "url",
            "site",
            "published",
            "split",
            "kind",
            "query",
            "sha256",
            "facts",
            "note",
        }
        if unknown:
            bad(where, f"unknown keys {sorted(unknown)}")
        if article.get("id") in ids:
            bad(where, "id appears twice")
        ids.add(article.get("id", ""))
        if "published" in article and not isinstance(article["published"], date):
            bad(where, "published must be a TOML date (2021-07-02), without quotes")
        if article.get("kind") not in KINDS:
            bad(where, f"kind must be one of {', '.join(KINDS)}")
        if article.get("split") != expected_split.get(article.get("url", "")):
            bad(where, f"split should be {expected_split.get(article.get('url', ''))!r}")
        facts = article.get("facts", [])
        if article.get("kind") == "distractor" and facts:
            bad(where, "a distractor states no facts; make it an update or a restatement")
        if article.get("kind") in ("update", "restatement") and not facts:
            bad(where, "an update or restatement states at least one fact")
        for j, fact in enumerate(facts):
            problems.extend(
                f"{path.name}: {where}.facts[{j}]: {p}"
                for p in _check_fact(fact, subject, bases, agreements)
            )
        text = TEXTS / story / f"{article.get('id')}.txt"
        if text.exists() and fingerprint(text.read_text(encoding="utf-8")) != article.get("sha256"):
            bad(where, f"{text.relative_to(HERE)} does not match its sha256")
    return problems


def _check_fact(fact: dict, subject: str, bases: dict, agreements: dict) -> list[str]:
    problems = []
    key, value = fact.get("key", ""), fact.get("value")
    unknown = set(fact) - {"key", "value", "qualifier", "upper", "as_of"}
    if unknown:
        problems.append(f"unknown keys {sorted(unknown)}")
    if key == f"{subject}.withdrawal_deadline":
        if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d\d(-\d\d)?", value):
            problems.append("a deadline is a quoted 'YYYY-MM-DD' or 'YYYY-MM'")
    elif key == f"{subject}.troop_count":
        if not isinstance(value, int):
            problems.append("a count is an integer")
        if fact.get("qualifier", "exact") not in QUALIFIERS:
            problems.append(f"qualifier must be one of {', '.join(QUALIFIERS)}")
        if (fact.get("qualifier") == "between") != ("upper" in fact):
            problems.append("a range has qualifier 'between' and an upper value, and only a range")
    elif key == f"{subject}.withdrawal_status":
        if value not in STATUS_VALUES["withdrawal_status"]:
            problems.append(f"value must be one of {STATUS_VALUES['withdrawal_status']}")
    elif key.startswith("bases.") and key.endswith(".status"):
        if key.split(".")[1] not in bases:
            problems.append(f"no base {key.split('.')[1]!r} in [bases]")
        if value not in STATUS_VALUES["base"]:
            problems.append(f"value must be one of {STATUS_VALUES['base']}")
    elif key.startswith("agreements.") and key.endswith(".status"):
        if key.split(".")[1] not in agreements:
            problems.append(f"no agreement {key.split('.')[1]!r} in [agreements]")
        if value not in STATUS_VALUES["agreement"]:
            problems.append(f"value must be one of {STATUS_VALUES['agreement']}")
    else:
        problems.append(f"unknown key {key!r}")
    if "as_of" in fact and not isinstance(fact["as_of"], date):
        problems.append("as_of must be a TOML date, without quotes")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hash", nargs="+", metavar="FILE", help="print fingerprints")
    parser.add_argument("--split", metavar="STORY", help="print a story's split")
    args = parser.parse_args()
    if args.hash:
        for name in args.hash:
            print(fingerprint(Path(name).read_text(encoding="utf-8")), name)
        return 0
    if args.split:
        data = tomllib.loads((LABELS / f"{args.split}.toml").read_text(encoding="utf-8"))
        by_url = {a["url"]: a.get("id", "?") for a in data.get("article", [])}
        for url, split in split_of(list(by_url)).items():
            print(f"{split}\t{by_url[url]}\t{url}")
        return 0
    problems = [p for path in sorted(LABELS.glob("*.toml")) for p in check_file(path)]
    for problem in problems:
        print(problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
