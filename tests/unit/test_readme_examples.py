"""The README's Python examples run as written, from the checkout's root (a user's first try)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_python_block_of_the_readme_runs() -> None:
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    assert blocks, "the README has no Python example"
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, f"{block}\n{done.stderr}"
        assert done.stdout.strip(), block  # each example shows a result


def test_the_first_example_gives_the_figures_the_readme_quotes() -> None:
    block = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), re.S)[0]
    out = subprocess.run(
        [sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True, timeout=300
    ).stdout
    # simulate(): 86 countries fail when the DRC stops its HS 282200 exports of 2024 (tonnes);
    # the sweep ranks the DRC first.
    assert out.splitlines()[0].startswith("86 ")
    assert re.search(r"^0\s+1\.0\s+1\s+COD\s+86\b", out, re.M), out
