"""watcher's imports point down the pipeline.

A unit is a subpackage of watcher/ or a module directly in it. The layers, from
the bottom up:

    ground   models, resources, sanitize, terminal, logs, and the package itself
    schema   migrations: the database's schema versions, which store applies
    state    store (the database) and config (the settings)
    shared   counters, status, config_edit, opml: small readers and writers over store
             and config (metrics, status, the config's sources, OPML lists)
    ingest   fetch, poll (feeds, pages, sitemaps, discover), extract: source to articles
    facts    topic, reading, compare, baseline, knowledge, evaluate: article to changes
    alerts   outbox, render, mailer, slack, atom, digest, health, notify: changes to messages
    web      the read-only view of what the layers below stored
    service  one pass (check: polling, articles, recording, report), workers and the
             daemon (startup, polls, leases), which also serves the web view
    cli      the commands
    entry    ``python -m watcher``

A unit may import from itself and from any layer below its own, never from its
own layer's other units or from a layer above. Imports inside functions and
under TYPE_CHECKING count: they are dependencies all the same. The exceptions
are listed in ALLOWED, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import watcher

LAYERS: tuple[tuple[str, frozenset[str]], ...] = (
    ("ground", frozenset({"watcher", "models", "resources", "sanitize", "terminal", "logs"})),
    ("schema", frozenset({"migrations"})),
    ("state", frozenset({"store", "config"})),
    ("shared", frozenset({"counters", "status", "config_edit", "opml"})),
    ("ingest", frozenset({"ingest"})),
    ("facts", frozenset({"facts"})),
    ("alerts", frozenset({"alerts"})),
    ("web", frozenset({"web"})),
    ("service", frozenset({"service"})),
    ("cli", frozenset({"cli"})),
    ("entry", frozenset({"__main__"})),
)
LAYER_OF = {unit: rank for rank, (_, units) in enumerate(LAYERS) for unit in units}
# (file, module): why that file may import that module against the layers.
ALLOWED = {
    ("watcher/migrations/env.py", "watcher.store"): "the alembic command, drafting the next "
    "schema version, compares a database with store's tables; watcher never takes that path",
}
PACKAGE = Path(watcher.__file__).parent


def unit_of(module: str) -> str:
    """``watcher.alerts.slack`` is in ``alerts``, ``watcher.store`` in ``store``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_module(dotted: str, package: Path) -> bool:
    path = package.parent.joinpath(*dotted.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imported_modules(path: Path, package: Path) -> list[tuple[int, str]]:
    """Each module of ``package`` that ``path`` imports, with the line; relative imports
    resolved, and ``from watcher import store`` read as importing ``watcher.store``."""
    name = module_name(path, package)
    here = (name if path.name == "__init__.py" else name.rpartition(".")[0]).split(".")
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            module = ".".join([*base, node.module] if node.module else base)
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.append((node.lineno, submodule if is_module(submodule, package) else module))
    return [
        (line, module)
        for line, module in found
        if module == package.name or module.startswith(package.name + ".")
    ]


def units(package: Path) -> set[str]:
    return {unit_of(module_name(path, package)) for path in package.rglob("*.py")}


def upward_imports(package: Path) -> list[str]:
    """Every import that points up a layer or across one, as ``file:line: what``."""
    problems = []
    for path in sorted(package.rglob("*.py")):
        source = unit_of(module_name(path, package))
        for line, module in imported_modules(path, package):
            target = unit_of(module)
            if target == source or source not in LAYER_OF or target not in LAYER_OF:
                continue
            if (path.relative_to(package.parent).as_posix(), module) in ALLOWED:
                continue
            if LAYER_OF[target] >= LAYER_OF[source]:
                where = "above" if LAYER_OF[target] > LAYER_OF[source] else "beside"
                problems.append(
                    f"{path.relative_to(package.parent)}:{line}: imports {module}, "
                    f"{where} {source} ({LAYERS[LAYER_OF[target]][0]} layer)"
                )
    return problems


def test_every_unit_has_a_layer() -> None:
    unplaced = units(PACKAGE) - LAYER_OF.keys()
    assert not unplaced, f"add to a layer in {__file__}: {sorted(unplaced)}"


def test_imports_point_down() -> None:
    assert upward_imports(PACKAGE) == []


def test_an_import_up_or_across_a_layer_is_reported(tmp_path: Path) -> None:
    package = tmp_path / "watcher"
    (package / "alerts").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "store.py").write_text("from watcher.models import Article\n")
    (package / "config.py").write_text("def load():\n    from watcher import store\n")
    (package / "alerts" / "__init__.py").write_text("")
    (package / "alerts" / "slack.py").write_text(
        "from watcher.facts.compare import Change\nfrom ..service import check\n"
    )
    assert upward_imports(package) == [
        "watcher/alerts/slack.py:2: imports watcher.service, above alerts (service layer)",
        "watcher/config.py:2: imports watcher.store, beside config (state layer)",
    ]


def test_every_allowed_exception_is_still_needed() -> None:
    made = {
        (path.relative_to(PACKAGE.parent).as_posix(), module)
        for path in PACKAGE.rglob("*.py")
        for _, module in imported_modules(path, PACKAGE)
    }
    assert ALLOWED.keys() <= made, f"remove from ALLOWED: {sorted(ALLOWED.keys() - made)}"
