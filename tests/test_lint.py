"""The code base stays ruff clean (the rules are in pyproject.toml), notebooks included."""

import subprocess
import sys
from pathlib import Path

from conftest import REPO

CHECKED = ["course_lib", "tests", "scripts", "benchmarks", "deploy", "chapters", "solutions"]


def test_ruff_is_clean():
    ruff = Path(sys.executable).parent / "ruff"
    proc = subprocess.run([str(ruff), "check", *CHECKED], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"ruff found problems:\n{proc.stdout[-4000:]}{proc.stderr[-2000:]}"
