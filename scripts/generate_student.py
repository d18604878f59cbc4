"""Regenerate every student notebook in chapters/ from its nbgrader source in solutions/.

Usage: ``make student`` (or ``.venv/bin/python scripts/generate_student.py [assignment ...]``).
"""

import sys
import tempfile
from pathlib import Path

from coursetools import assignments, write_student_versions

if __name__ == "__main__":
    ids = sys.argv[1:] or assignments()
    with tempfile.TemporaryDirectory() as work:
        for path in write_student_versions(Path(work), ids):
            print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
