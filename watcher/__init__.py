"""watcher: alerts when a fact in a developing news story changes."""

__version__ = "0.1.0"
