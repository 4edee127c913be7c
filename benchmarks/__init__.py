"""Repeatable measurements of watcher: throughput, latency and memory.

Not tests: nothing here passes or fails. ``benchmarks/run`` prints a table of
figures against the project's targets and writes them as JSON; ``soak.py``
watches the daemon over time. See README.md beside this file.
"""
