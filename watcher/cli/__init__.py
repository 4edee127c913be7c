"""The ``watcher`` command, a thin skin over the stages below it."""
