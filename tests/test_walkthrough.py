"""The README's "Following a new story", run as written: from an empty folder to a first check.

The shell blocks of that section are run in order, in one bash, with the
`watcher` being tested first on PATH. Only the feed's URL is changed, to a
news site on loopback (which needs private addresses allowed).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.checks import page
from tests.support.loopback import LoopbackServer

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parent.parent / "README.md"
SECTION = "### Following a new story"
FEED_IN_README = "https://example.org/world/rss.xml"

LAST_TROOPS = (
    "Last US troops leave Chad",
    "2024-05-20",
    [
        "N'DJAMENA — The last US troops left Chad on Sunday, the Pentagon said, and the "
        "Adji Kossei air base was handed over to Chadian forces.",
        "The withdrawal of American forces from Chad has been completed, officials said.",
    ],
)


def walkthrough() -> str:
    """The section's shell blocks, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split(SECTION, 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.DOTALL)
    assert len(blocks) >= 4, "the walk-through lost its shell blocks"
    return "\n".join(blocks)


def test_the_readme_walkthrough_runs_as_written(tmp_path: Path, server: LoopbackServer) -> None:
    server.route("/a/last-troops.html", page(LAST_TROOPS))
    feed = server.route(
        "/feed.xml",
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Wire</title>'
        f"<item><title>Last US troops</title><link>{server.url('/a/last-troops.html')}</link>"
        "<guid>last-troops</guid></item></channel></rss>",
    )
    script = walkthrough()
    assert FEED_IN_README in script and "allow_private_addresses = false" in script
    script = script.replace(FEED_IN_README, feed).replace(
        "allow_private_addresses = false", "allow_private_addresses = true"
    )
    environ = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "WATCHER_CONFIG": "",
    }
    # Each command is echoed before it runs, so the output says which one said what.
    result = subprocess.run(
        ["bash", "-x", "-c", script],
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = result.stdout
    assert "error" not in result.stderr.replace("+ ", ""), result.stderr
    assert (tmp_path / "chad-watch" / "stories" / "chad" / "topic.toml").is_file()
    # story check: the story is sound, and what its seed gives.
    assert "chad: ok: 3 of 4 facts known from the seeds" in output
    # baseline --story chad: the seed's count, with its quote.
    assert "US troops in Chad (us_forces.troop_count): about 100 (as of 2024-04-25)" in output
    # check: the first pass read the article and found the changes.
    assert "wire: 1 new article(s)" in output
    assert re.search(r"Adji Kossei air base: operating -> handed over", output)
    # facts --story chad: what is known now.
    assert re.search(
        r"Adji Kossei air base \(bases\.adji_kossei_air_base\.status\): handed over", output
    )
    assert server.hits("/a/last-troops.html") == 1
