"""The nbgrader chores of the course, shared by ``make student``, the instructor commands and the
tests, so that what CI checks is exactly what instructors run.

Every assignment is found from ``solutions/*/exercises.ipynb``: there is no list to keep in sync.
nbgrader runs as a subprocess of the project's own interpreter, with an explicit course root, so
a temporary course folder (tests) and the repository (instructors) use the same code path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTIONS = REPO / "solutions"
CHAPTERS = REPO / "chapters"
NOTEBOOK = "exercises.ipynb"


def assignments() -> list[str]:
    """Assignment ids (= chapter folder names) that have an exercise source, sorted."""
    return sorted(p.parent.name for p in SOLUTIONS.glob(f"*/{NOTEBOOK}"))


def nbgrader(root: Path, *args: str, timeout: float | None = None,
             check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader <args>`` on the course rooted at ``root`` (uses the repo's config file)."""
    root = Path(root).resolve()
    cmd = [sys.executable, "-m", "nbgrader", *args,
           f"--CourseDirectory.root={root}",
           f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}"]
    # nbgrader shells out to `alembic` and starts kernels: the venv's bin must come first on PATH
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONHASHSEED": "0", "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed ({proc.returncode}):\n"
                           f"{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def make_course(root: Path, ids: list[str] | None = None) -> Path:
    """Lay out a course folder at ``root`` with the sources of ``ids`` (default: all)."""
    root = Path(root)
    for aid in ids or assignments():
        dest = root / "solutions" / aid
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SOLUTIONS / aid / NOTEBOOK, dest / NOTEBOOK)
    return root


def generate(root: Path, aid: str) -> Path:
    """``nbgrader generate_assignment``: the student version of ``aid`` under ``root/release``."""
    nbgrader(root, "generate_assignment", aid, "--force")
    return Path(root) / "release" / aid / NOTEBOOK


def normalised(path: Path) -> str:
    """Notebook text in one canonical form (sorted keys, no outputs) for drift comparison."""
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"], cell["execution_count"] = [], None
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def write_student_versions(work: Path, ids: list[str] | None = None) -> list[Path]:
    """Regenerate ``chapters/<aid>/exercises.ipynb`` from ``solutions/`` for every assignment."""
    make_course(work, ids)
    written = []
    for aid in ids or assignments():
        target = CHAPTERS / aid / NOTEBOOK
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(normalised(generate(work, aid)), encoding="utf-8")
        written.append(target)
    return written


def submit(root: Path, student: str, aid: str, notebook: Path | bytes | str) -> Path:
    """Place a student's notebook where ``nbgrader autograde`` looks for it (no exchange)."""
    dest = Path(root) / "submitted" / student / aid / NOTEBOOK
    dest.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, Path):
        shutil.copy2(notebook, dest)
    else:
        dest.write_bytes(notebook.encode() if isinstance(notebook, str) else notebook)
    return dest


def autograde(root: Path, aid: str, timeout: float | None = 1800) -> subprocess.CompletedProcess[str]:
    """``nbgrader autograde`` every submission of ``aid``; never raises on a bad submission."""
    return nbgrader(root, "autograde", aid, "--force", timeout=timeout, check=False)


def scores(root: Path, aid: str) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` for ``aid`` from the gradebook at ``root``."""
    from nbgrader.api import Gradebook

    out: dict[str, tuple[float, float]] = {}
    with Gradebook(f"sqlite:///{Path(root).resolve() / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(aid):
            out[sub.student_id] = (float(sub.score), float(sub.max_score))
    return out
