"""A second story beside Niger's: US forces leaving Chad, with its topic and seed."""

from __future__ import annotations

from pathlib import Path

CHAD_TOPIC = """\
name = "chad"
title = "US forces leave Chad"

[subject]
id = "us_forces"
label = "US"
names = ["US", "U.S.", "American", "Americans", "Pentagon", "United States", "Washington"]

[place]
label = "Chad"
names = ["Chad", "N'Djamena"]
host = ["Chadian", "Deby"]

[[bases]]
id = "adji_kossei"
label = "Adji Kossei air base"
names = ["Adji Kossei"]
"""


CHAD_SEED = """\
The United States will withdraw about 100 troops from Chad in the coming days, the \
Pentagon said on Thursday, after Chad's government questioned an agreement that allows \
American forces to operate in the country.

Most of the US troops in Chad are based at the Adji Kossei air base in N'Djamena, where \
they work alongside French forces.
"""


CHAD_MANIFEST = """\
[[seed]]
file = "us-to-leave-chad.txt"
published = 2024-04-25
title = "US to pull troops out of Chad"
"""


def write_chad(folder: Path) -> None:
    (folder / "chad" / "seeds").mkdir(parents=True)
    (folder / "chad" / "topic.toml").write_text(CHAD_TOPIC)
    (folder / "chad" / "seeds" / "us-to-leave-chad.txt").write_text(CHAD_SEED)
    (folder / "chad" / "seeds" / "manifest.toml").write_text(CHAD_MANIFEST)
