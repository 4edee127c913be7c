"""``python -m benchmarks``: the same as ``benchmarks/run``."""

from benchmarks.main import main

raise SystemExit(main())
