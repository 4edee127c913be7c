"""Starting the workers' fork server ahead of a pass that will need it.

Before it can fork a worker, the fork server imports the extractor and the
fact reader (about half a second of CPU, more on a busy machine). A first
pass over several sources never read before will have many articles, which
is known before its first feed is fetched: starting the server then runs
that import while the pass starts, fetches and parses its feeds, instead of
after. This module imports nothing heavy itself.
"""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing import forkserver

# The module the fork server imports before forking (it loads the extractor).
WORKERS_MODULE = "watcher.service.workers"
# A pass with at least this many sources never read before starts the server early.
NEW_SOURCES = 5


def start_fork_server() -> None:
    """Start the fork server in the background, with the workers' module preloaded."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([WORKERS_MODULE])
    threading.Thread(
        target=forkserver.ensure_running, name="watcher-forkserver-start", daemon=True
    ).start()
