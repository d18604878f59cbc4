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


def nbgrader(root: Path, *args: str, timeout: float | None = None, check: bool = True,
             cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``nbgrader <args>`` on the course rooted at ``root``.

    ``cwd`` decides which ``nbgrader_config.py`` is read (the repository's by default; a student's
    home in the exchange tests). ``env`` adds variables (e.g. ``NBGRADER_EXCHANGE``).
    """
    root = Path(root).resolve()
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"]
    if cwd == REPO:
        cmd.append(f"--CourseDirectory.db_url=sqlite:///{root / 'gradebook.db'}")
    # nbgrader shells out to `alembic` and starts kernels: the venv's bin must come first on PATH
    bindir = str(Path(sys.executable).parent)
    env = {**os.environ, "PYTHONHASHSEED": "0", **(env or {}),
           "PATH": bindir + os.pathsep + os.environ.get("PATH", "")}
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
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


def autograde(root: Path, aid: str, *extra: str,
              timeout: float | None = 1800) -> subprocess.CompletedProcess[str]:
    """``nbgrader autograde`` every submission of ``aid``; never raises on a bad submission."""
    return nbgrader(root, "autograde", aid, "--force", *extra, timeout=timeout, check=False)


def scores(root: Path, aid: str) -> dict[str, tuple[float, float]]:
    """``{student: (score, max_score)}`` for ``aid`` from the gradebook at ``root``."""
    from nbgrader.api import Gradebook

    out: dict[str, tuple[float, float]] = {}
    with Gradebook(f"sqlite:///{Path(root).resolve() / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(aid):
            out[sub.student_id] = (float(sub.score), float(sub.max_score))
    return out


# --- the instructor's cycle: release -> collect -> grade -> feedback -> export ------------------

def release(root: Path, aid: str) -> None:
    """Generate the student version of ``aid`` and put it in the exchange."""
    generate(root, aid)
    nbgrader(root, "release_assignment", aid, "--force")


def collect(root: Path, aid: str) -> None:
    """Copy every student's latest submission of ``aid`` from the exchange to ``submitted/``."""
    nbgrader(root, "collect", aid, "--update")


def _student_cells(nb: dict) -> list[tuple[int, str]]:
    """(index, source) of the code cells a student may edit: solution cells and added cells."""
    out = []
    for i, cell in enumerate(nb.get("cells", [])):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") == "code" and (meta.get("solution") or not meta):
            src = cell.get("source", "")
            out.append((i, "".join(src) if isinstance(src, list) else src))
    return out


# Errors in an autograded notebook that mean the run did not complete as written.
ABORTS = ("CellTimeoutError", "DeadKernelError", "TimeoutError", "KeyboardInterrupt")


def audit(root: Path, aid: str, student: str) -> list[str]:
    """Reasons to hold ``student``'s submission of ``aid`` for review (empty: none)."""
    from course_lib.nbgrader_plugins import audit_source

    reasons: list[str] = []
    sub = Path(root) / "submitted" / student / aid / NOTEBOOK
    try:
        nb = json.loads(sub.read_text(encoding="utf-8"))
        if not isinstance(nb, dict) or "cells" not in nb:
            raise ValueError("no cells")
    except (OSError, ValueError) as exc:
        return [f"the submitted notebook could not be read ({type(exc).__name__}: {exc})"[:300]]
    for i, src in _student_cells(nb):
        reasons += [f"cell {i} {why}" for why in audit_source(src)]
    graded = Path(root) / "autograded" / student / aid / NOTEBOOK
    if not graded.exists():
        return reasons + ["autograding did not produce a notebook (see the autograde log)"]
    for i, cell in enumerate(json.loads(graded.read_text(encoding="utf-8"))["cells"]):
        for out in cell.get("outputs", []):
            text = json.dumps(out)
            if out.get("output_type") == "error" and any(a in text for a in ABORTS):
                reasons.append(f"cell {i} did not finish: {out.get('ename')} (time limit or dead kernel)")
    return reasons


def hold_for_review(root: Path, aid: str, student: str, reasons: list[str]) -> None:
    """Give 0 on every graded cell of the submission, flag it, and write the reasons as comments."""
    from nbgrader.api import Gradebook

    text = "Held for review by the course's grading audit: " + "; ".join(reasons)
    with Gradebook(f"sqlite:///{Path(root).resolve() / 'gradebook.db'}") as gb:
        submission = gb.find_submission(aid, student)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                grade.manual_score = 0.0
                grade.needs_manual_grade = True
            for comment in notebook.comments:
                comment.manual_comment = text
        gb.db.commit()


def grade(root: Path, aid: str, *extra: str, timeout: float | None = 3600) -> list[dict]:
    """Autograde every submission of ``aid``, audit each, hold suspicious ones, write a report.

    ``extra`` are more nbgrader options (the tests pass a short ``--Execute.timeout``).
    """
    import csv

    proc = autograde(root, aid, *extra, timeout=timeout)
    report = []
    students = sorted(p.name for p in (Path(root) / "submitted").iterdir()
                      if (p / aid).is_dir()) if (Path(root) / "submitted").is_dir() else []
    known = scores(root, aid)
    for student in students:
        reasons = audit(root, aid, student)
        if student not in known:
            reasons.append("nbgrader could not grade this submission (see the autograde log)")
        elif reasons:
            hold_for_review(root, aid, student, reasons)
        score, max_score = scores(root, aid).get(student, (0.0, 0.0))
        report.append({"student": student, "score": score, "max_score": max_score,
                       "flagged": bool(reasons), "reasons": "; ".join(reasons)})
    out = Path(root) / "reports" / f"{aid}-grading.csv"
    out.parent.mkdir(exist_ok=True)
    with out.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["student", "score", "max_score", "flagged", "reasons"])
        writer.writeheader()
        writer.writerows(report)
    (out.with_suffix(".log")).write_text(proc.stdout + proc.stderr, encoding="utf-8")
    return report


def hidden_test_lines(aid: str, source_root: Path = REPO) -> list[str]:
    """The non-trivial lines of every hidden-test block of ``aid`` (for leak checks)."""
    from course_lib.nbgrader_plugins import secret_lines, split_hidden

    nb = json.loads((Path(source_root) / "solutions" / aid / NOTEBOOK).read_text(encoding="utf-8"))
    parts = [split_hidden("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "code"]
    return secret_lines([h for _, hidden in parts for h in hidden], "\n".join(v for v, _ in parts))


def feedback(root: Path, aid: str, release: bool = True) -> list[Path]:
    """Generate feedback HTML without hidden tests, check it, and return it to the students.

    A feedback file that still quotes a hidden-test line (e.g. a student printed a file read from
    disk in a way the redaction missed) is withheld: deleted, and named in
    ``reports/<aid>-feedback-withheld.txt``. Returns the files handed out.
    """
    from course_lib.nbgrader_plugins import quotes_secret

    nbgrader(root, "generate_feedback", aid, "--force")
    secrets = hidden_test_lines(aid, root)
    kept, withheld = [], []
    for path in sorted((Path(root) / "feedback").glob(f"*/{aid}/*.html")):
        html = path.read_text(encoding="utf-8")
        if any(quotes_secret(html, [s]) for s in secrets):
            path.unlink()  # better no feedback than a leaked test
            withheld.append(path)
            continue
        path.write_text(offline_mathjax(html), encoding="utf-8")
        kept.append(path)
    if withheld:
        report = Path(root) / "reports" / f"{aid}-feedback-withheld.txt"
        report.parent.mkdir(exist_ok=True)
        report.write_text("".join(f"{p}\n" for p in withheld), encoding="utf-8")
    if release and kept:
        nbgrader(root, "release_feedback", aid)
    return kept


def offline_mathjax(html: str) -> str:
    """Replace the CDN MathJax of nbconvert's template by MathJax 3 inlined into the page.

    Feedback files are handed to students one HTML file each, so the script travels inside it
    (MathJax's SVG output needs no font files).
    """
    import re

    mathjax = REPO / "node_modules" / "mathjax" / "es5" / "tex-svg.js"
    if not mathjax.exists():
        raise FileNotFoundError(f"{mathjax} is missing: run `make setup` (npm ci) first")
    config = ("<script>window.MathJax = {tex: {inlineMath: [['$', '$'], ['\\\\(', '\\\\)']], "
              "processEscapes: true}, svg: {fontCache: 'global'}};</script>")
    inline = config + "<script>" + mathjax.read_text(encoding="utf-8").replace("</script", "<\\/script") + "</script>"
    # drop every remote MathJax script (and its MathJax 2 config block), keep everything else
    html = re.sub(r'<script[^>]*src="https?://[^"]*mathjax[^"]*"[^>]*>\s*</script>', "", html, flags=re.I)
    html = re.sub(r'<script type="text/x-mathjax-config">.*?</script>', "", html, flags=re.S)
    return html.replace("</head>", inline + "\n</head>", 1)


def export_grades(root: Path, out: Path) -> Path:
    """``nbgrader export`` of the whole gradebook to a CSV file."""
    nbgrader(root, "export", f"--to={out}")
    return out


# --- simulated students (tests and demos) ------------------------------------------------------

def fill_solutions(student_nb: Path, aid: str, upto: int | None = None) -> None:
    """Write the reference answers into a student's notebook, in place.

    ``upto``: only the first ``upto`` solution cells (a partial submission); None: all of them.
    """
    source = json.loads((SOLUTIONS / aid / NOTEBOOK).read_text(encoding="utf-8"))
    answers = {c["metadata"]["nbgrader"]["grade_id"]: c["source"] for c in source["cells"]
               if c["metadata"].get("nbgrader", {}).get("solution")}
    nb = json.loads(Path(student_nb).read_text(encoding="utf-8"))
    done = 0
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if gid in answers and (upto is None or done < upto):
            cell["source"] = answers[gid]
            done += 1
    Path(student_nb).write_text(json.dumps(nb, indent=1), encoding="utf-8")


def points_after_solutions(aid: str, upto: int) -> float:
    """Points of the test cells that follow the first ``upto`` solution cells (the convention of
    our exercises: a task's test cells come after its solution cell, before the next task's)."""
    nb = json.loads((SOLUTIONS / aid / NOTEBOOK).read_text(encoding="utf-8"))
    seen, total = 0, 0.0
    for cell in nb["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if meta.get("solution"):
            seen += 1
        elif meta.get("grade") and 0 < seen <= upto:
            total += meta.get("points", 0)
    return total
