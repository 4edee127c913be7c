"""The benchmark corpus: real web pages saved in ``shared/bench/pages``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PAGES = REPO.parent / "shared" / "bench" / "pages"


class SetupError(Exception):
    """The benchmark cannot start; ``str()`` is the one line to show."""


@dataclass(frozen=True)
class Page:
    name: str  # file name, e.g. 007.html
    url: str  # where it was saved from
    html: bytes


def load_pages(folder: Path) -> list[Page]:
    """Every page listed in ``MANIFEST.tsv`` (file, bytes, url), in manifest order."""
    manifest = folder / "MANIFEST.tsv"
    if not manifest.is_file():
        raise SetupError(f"benchmark pages not found: no {manifest} (give --pages DIR)")
    pages: list[Page] = []
    for line in manifest.read_text(encoding="utf-8").splitlines()[1:]:
        if not line.strip():
            continue
        name, _size, url = line.split("\t")[:3]
        pages.append(Page(name, url, (folder / name).read_bytes()))
    if not pages:
        raise SetupError(f"benchmark pages not found: {manifest} lists no page")
    return pages
