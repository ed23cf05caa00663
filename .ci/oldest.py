"""Print pip constraints pinning each core dependency to its declared lower bound.

``pyproject.toml`` promises ``numpy>=1.24`` and so on; CI installs these exact
releases in a second environment and runs the core tests there, so that the
promise is tested rather than assumed.
"""

import re
import sys
from pathlib import Path

import tomllib

project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
for requirement in project["project"]["dependencies"]:
    match = re.fullmatch(r"\s*([A-Za-z0-9_.-]+)\s*>=\s*([0-9][0-9.]*)\s*", requirement)
    if match is None:
        sys.exit(f"{requirement!r}: a core dependency must be 'name>=version' to be pinned")
    print(f"{match[1]}=={match[2]}")
