"""watcher's tests: real servers on loopback, real processes, real databases."""
