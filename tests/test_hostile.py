"""Broken and hostile submissions, graded for real in one class: each finishes in bounded time,
the others are still graded, nobody gets points they did not earn, and the report says why."""

import json
import time

import pytest
from conftest import coursetools as ct

AID = ct.assignments()[0]
TIMEOUT = 10  # seconds per cell for this test (the course default is in nbgrader_config.py)


def _cells(nb: dict, kind: str) -> list[dict]:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get(kind)]


def _with_code(nb: dict, code: str, where: str = "after_solutions") -> dict:
    """Append ``code`` to the first solution cell (the student's own cell)."""
    first = _cells(nb, "solution")[0]
    first["source"] = "".join(first["source"]) + "\n" + code
    return nb


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    root = ct.make_course(tmp_path_factory.mktemp("hostile"), [AID])
    release = ct.generate(root, AID)
    stub = json.loads(release.read_text())
    solved_path = root / "solved.ipynb"
    solved_path.write_text(json.dumps(stub))
    ct.fill_solutions(solved_path, AID)
    solved = json.loads(solved_path.read_text())
    source_path = (root / "solutions" / AID / ct.NOTEBOOK).resolve()

    def copy(nb):
        return json.loads(json.dumps(nb))

    subs: dict[str, bytes | dict] = {
        "honest": copy(solved),
        "untouched": copy(stub),
        "loop": _with_code(copy(solved), "while True:\n    pass"),
        "invalid_json": b'{"cells": [ {',
        "empty_file": b"",
        "cells_deleted": {**copy(solved), "cells": copy(solved)["cells"][:2]},
        "tests_edited": copy(stub),
        "tests_deleted": {**copy(stub), "cells": [c for c in copy(stub)["cells"]
                                                 if not c["metadata"].get("nbgrader", {}).get("grade")]},
        "patched_checks": _with_code(copy(stub), (
            "import course_lib.grading as _g\n"
            "for _n in dir(_g):\n"
            "    if _n.startswith('check'):\n"
            "        setattr(_g, _n, lambda *a, **k: None)")),
        "patched_builtins": _with_code(copy(stub), (
            "import builtins\nbuiltins.NotImplementedError = type('X', (Exception,), {})")),
        "sys_exit": _with_code(copy(solved), "import sys\nsys.exit(0)"),
        "kernel_kill": _with_code(copy(stub), "import os\nos._exit(0)"),
        "huge_output": _with_code(copy(solved), "print('x' * 100_000_000)"),
        "reads_hidden": _with_code(copy(solved), f"print(open({str(source_path)!r}).read())"),
    }
    for cell in _cells(subs["tests_edited"], "grade"):  # replace every locked test by `pass`
        cell["source"] = "pass"
    for name, nb in subs.items():
        ct.submit(root, name, AID, nb if isinstance(nb, bytes) else json.dumps(nb).encode())
    start = time.time()
    report = {row["student"]: row for row in ct.grade(root, AID, f"--Execute.timeout={TIMEOUT}")}
    elapsed = time.time() - start
    total = ct.points_after_solutions(AID, 10**6)
    return {"root": root, "report": report, "elapsed": elapsed, "total": total,
            "scores": ct.scores(root, AID)}


@pytest.mark.slow
def test_every_submission_is_graded_in_bounded_time(graded):
    assert set(graded["report"]) == {
        "honest", "untouched", "loop", "invalid_json", "empty_file", "cells_deleted", "tests_edited",
        "tests_deleted", "patched_checks", "patched_builtins", "sys_exit", "kernel_kill",
        "huge_output", "reads_hidden"}
    # 14 notebooks, one of which burns a whole cell time limit: minutes, not forever
    assert graded["elapsed"] < 14 * 30 + TIMEOUT, f"grading took {graded['elapsed']:.0f} s"


@pytest.mark.slow
def test_honest_student_is_unaffected_by_the_others(graded):
    assert graded["report"]["honest"]["score"] == graded["total"]
    assert not graded["report"]["honest"]["flagged"]


@pytest.mark.slow
@pytest.mark.parametrize("name", [
    "untouched", "invalid_json", "empty_file", "tests_edited", "tests_deleted", "patched_checks",
    "patched_builtins", "kernel_kill"])
def test_no_unearned_points(graded, name):
    """None of these students wrote a working answer: every one scores 0."""
    assert graded["report"][name]["score"] == 0.0, graded["report"][name]


@pytest.mark.slow
def test_deleting_cells_earns_nothing_extra(graded):
    row = graded["report"]["cells_deleted"]
    assert row["score"] <= ct.points_after_solutions(AID, 1)


@pytest.mark.slow
@pytest.mark.parametrize("name, why", [
    ("loop", "did not finish"), ("loop", "endless"), ("invalid_json", "could not be read"),
    ("empty_file", "could not be read"), ("patched_checks", "grading"),
    ("patched_builtins", "builtins"), ("sys_exit", "sys.exit"), ("kernel_kill", "os._exit"),
    ("reads_hidden", "open")])
def test_suspicious_submissions_are_held_with_a_reason(graded, name, why):
    row = graded["report"][name]
    assert row["flagged"] and why in row["reasons"], row
    assert row["score"] == 0.0  # held: 0 until the instructor reviews it


@pytest.mark.slow
def test_huge_output_is_bounded_and_graded_on_its_answers(graded):
    row = graded["report"]["huge_output"]
    assert row["score"] == graded["total"] and not row["flagged"]
    graded_nb = graded["root"] / "autograded" / "huge_output" / AID / ct.NOTEBOOK
    assert graded_nb.stat().st_size < 1_000_000
    assert "output truncated" in graded_nb.read_text()


@pytest.mark.slow
def test_feedback_never_carries_hidden_tests(graded):
    kept = ct.feedback(graded["root"], AID, release=False)
    secrets = ct.hidden_test_lines(AID)
    assert secrets
    for page in kept:
        html = page.read_text(encoding="utf-8")
        assert not [s for s in secrets if s in html], page
    assert any("honest" in str(p) for p in kept)
