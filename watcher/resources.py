"""Finding the files that ship with watcher (seeds, topics, templates).

In a checkout they sit beside the package; in an installed wheel they are
copied into ``watcher/_data``.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_path(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.exists():
        return installed
    return _PACKAGE.parent / name
