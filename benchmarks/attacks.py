"""The attacks of issue 11, measured: how long and how much memory one hostile source costs.

``.venv/bin/python -m benchmarks.attacks`` prints, on 127.0.0.1 and with
nothing else needed:

- parse_feed on feeds of open tags then stray closing tags then 1,100 items,
  at growing sizes: the time should grow with the size, not its square;
- the peak RSS of a child ``watcher check`` whose feed is 9.9 MB of elements
  never closed, sent as 10 kB of gzip;
- a ``watcher check`` over a good source and one whose 40 article links send a
  byte a second (``total_timeout = 5``): the pass time, and when the good
  source's alert reached a loopback webhook.

Figures, not a test: nothing passes or fails.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path

# The tests' loopback servers and sample news (run from the repository: python -m).
from tests.support.alerting import Webhook
from tests.support.checks import HANDOVER, page
from tests.support.loopback import LoopbackServer, Request, Response
from watcher.ingest.feeds import FeedError, parse_feed

HEAD = b'<?xml version="1.0"?><rss version="2.0"><channel><title>W</title>'
TAIL = b"</channel></rss>"


def items(count: int) -> bytes:
    return b"".join(
        b"<item><title>%d</title><link>http://e.test/%d</link></item>" % (n, n)
        for n in range(count)
    )


def stray_tags(opened: int, closing: int) -> bytes:
    return HEAD + b"<a>" * opened + b"</b>" * closing + items(1100) + TAIL


def parse_seconds(body: bytes) -> float:
    started = time.perf_counter()
    with suppress(FeedError):  # a feed cut before its first item fails: timed all the same
        parse_feed(body, url="http://e.test/feed", source="s")
    return time.perf_counter() - started


def config(folder: Path, sources: dict[str, str], extra: str = "") -> Path:
    lines = [
        '[state]\npath = "state.db"',
        "[http]\nallow_private_addresses = true\nper_host_delay = 0\nretries = 0",
        extra,
    ]
    lines += [f'[[sources]]\nname = "{n}"\nurl = "{u}"' for n, u in sources.items()]
    path = folder / "watcher.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def child_check(path: Path, env: dict[str, str] | None = None) -> tuple[int, float, int]:
    """Exit status, seconds and peak RSS (bytes) of a child `watcher check`."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "watcher", "check", "--config", str(path), "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
    )
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss * 1024


def one_byte_a_second(request: Request) -> Response:
    def trickle() -> Iterator[bytes]:
        for _ in range(600):
            yield b"<"
            time.sleep(1)

    return Response(stream=trickle())


def main() -> int:
    print("stray closing tags (parse_feed)")
    for closing in (100_000, 200_000, 400_000, 2_000_000):
        body = stray_tags(90, closing)
        print(f"  {len(body) / 1e6:5.1f} MB: {parse_seconds(body):6.2f} s")
    body = stray_tags(40_000, 2_000_000)
    print(f"  {len(body) / 1e6:5.1f} MB, 40,000 open first: {parse_seconds(body):6.2f} s")

    server = LoopbackServer().start()
    slow = LoopbackServer("127.0.0.2").start()
    hook = Webhook()
    try:
        with tempfile.TemporaryDirectory() as folder:
            deep = gzip.compress(HEAD + items(3) + b"<a>" * 3_300_000, 9)
            url = server.route("/deep.xml", deep, headers={"Content-Encoding": "gzip"})
            code, seconds, peak = child_check(config(Path(folder), {"deep": url}))
            print("deep nesting, 9.9 MB in", f"{len(deep) / 1e3:.0f} kB of gzip")
            print(f"  watcher check: exit {code}, {seconds:.1f} s, peak RSS {peak / 1e6:.0f} MB")

        with tempfile.TemporaryDirectory() as folder:
            links = "".join(
                f"<item><title>{n}</title><link>{slow.route(f'/s/{n}', one_byte_a_second)}"
                f"</link></item>"
                for n in range(40)
            )
            slow_feed = slow.route("/feed.xml", HEAD + links.encode() + TAIL)
            story = server.route("/a/handover.html", page(HANDOVER))
            good_feed = server.route(
                "/feed.xml",
                HEAD + f"<item><title>H</title><link>{story}</link></item>".encode() + TAIL,
            )
            slack = '[notify.slack]\nwebhook_env = "BENCH_HOOK"\nimmediate = "all"'
            print("40 links at a byte a second, total_timeout 5s")
            for budget in ("", '[check]\nsource_budget = "6s"'):
                hook.times.clear()
                path = config(
                    Path(folder),
                    {"slow": slow_feed, "good": good_feed},
                    f"total_timeout = 5\n{slack}\n{budget}",
                )
                (Path(folder) / "state.db").unlink(missing_ok=True)
                started = time.monotonic()
                code, seconds, _ = child_check(path, {"BENCH_HOOK": hook.url})
                first = f"{hook.times[0] - started:.1f} s" if hook.times else "never"
                label = budget.splitlines()[-1] if budget else "default budgets"
                print(f"  {label}: pass {seconds:.1f} s, good source's alert after {first}")
    finally:
        hook.stop()
        slow.stop()
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
