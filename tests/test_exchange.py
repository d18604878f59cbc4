"""The whole nbgrader cycle through a real filesystem exchange, as a class would use it:
release -> students fetch, work, submit -> collect -> grade -> feedback -> fetch feedback -> export."""

import csv
import json
import os
from pathlib import Path

import pytest
from conftest import coursetools as ct

AID = ct.assignments()[0]


def _student_home(base: Path, name: str, exchange: Path) -> Path:
    home = base / name
    home.mkdir()
    # what a student's server has on the hub (deploy/jupyterhub sets the same values); the
    # submission cache lives in each student's own home, as it does for real users
    (home / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = 'rnn-course'\nc.Exchange.root = {str(exchange)!r}\n"
        f"c.Exchange.cache = {str(home / '.nbgrader_cache')!r}\n")
    return home


@pytest.mark.slow
def test_release_fetch_submit_collect_grade_feedback_export(tmp_path: Path, monkeypatch):
    exchange = tmp_path / "exchange"
    exchange.mkdir()
    os.chmod(exchange, 0o777)
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(exchange))
    course = ct.make_course(tmp_path / "course", [AID])
    ct.release(course, AID)

    total = ct.points_after_solutions(AID, 10**6)
    partial = ct.points_after_solutions(AID, 1)
    assert 0 < partial < total
    plan = {"ada": None, "ben": 0, "cy": 1}  # all answers, untouched, first task only
    for name, upto in plan.items():
        home = _student_home(tmp_path, name, exchange)
        ct.nbgrader(home, "fetch_assignment", AID, cwd=home)
        notebook = home / AID / ct.NOTEBOOK
        assert "NotImplementedError" in notebook.read_text()
        if upto != 0:
            ct.fill_solutions(notebook, AID, upto)
        ct.nbgrader(home, "submit", AID, f"--student={name}", cwd=home)

    ct.collect(course, AID)
    report = {row["student"]: row for row in ct.grade(course, AID)}
    assert not any(row["flagged"] for row in report.values()), report
    released = ct.feedback(course, AID, release=True)
    assert len(released) == 3

    for name in plan:
        home = tmp_path / name
        ct.nbgrader(home, "fetch_feedback", AID, f"--student={name}", cwd=home)
        pages = list((home / AID / "feedback").rglob("*.html"))
        assert len(pages) == 1, f"{name} got {pages}"
        html = pages[0].read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in html
        assert not [s for s in ct.hidden_test_lines(AID) if s in html]
        assert "cdnjs" not in html and "MathJax" in html  # math renders from the inlined copy

    grades = ct.export_grades(course, tmp_path / "grades.csv")
    rows = {r["student_id"]: r for r in csv.DictReader(grades.open())}
    assert {k: float(v["score"]) for k, v in rows.items()} == {"ada": total, "ben": 0.0, "cy": partial}
    assert all(float(r["max_score"]) == total for r in rows.values())
    assert json.loads((course / "autograded" / "ada" / AID / ct.NOTEBOOK).read_text())["cells"]
