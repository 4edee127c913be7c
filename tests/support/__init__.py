"""What several test modules share: servers on loopback, sample news and alerts, a daemon
or the web view run as real processes."""

import sys

# The command as a user runs it, in this interpreter's environment.
WATCHER = [sys.executable, "-m", "watcher"]
