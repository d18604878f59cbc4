"""Real ``nbgrader autograde`` on every assignment: the solution scores full marks, the untouched
student version scores 0, and a broken file costs only its owner."""

import json
from pathlib import Path

import pytest
from conftest import coursetools

ASSIGNMENTS = coursetools.assignments()


def _points(path: Path) -> float:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(c["metadata"].get("nbgrader", {}).get("points", 0) for c in nb["cells"]
               if c["metadata"].get("nbgrader", {}).get("grade"))


@pytest.mark.slow
@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_solution_full_marks_student_version_zero(aid: str, tmp_path: Path):
    root = coursetools.make_course(tmp_path, [aid])
    release = coursetools.generate(root, aid)
    coursetools.submit(root, "solver", aid, root / "solutions" / aid / coursetools.NOTEBOOK)
    coursetools.submit(root, "untouched", aid, release)
    coursetools.submit(root, "garbled", aid, b"{ this is not a notebook")
    proc = coursetools.autograde(root, aid)
    got = coursetools.scores(root, aid)
    total = _points(root / "solutions" / aid / coursetools.NOTEBOOK)
    assert total > 0
    assert got["solver"] == (total, total), f"solution scored {got['solver']}:\n{proc.stderr[-3000:]}"
    assert got["untouched"] == (0.0, total), f"untouched student version scored {got['untouched']}"
    assert got.get("garbled", (0.0, total))[0] == 0.0
    # feedback for the graded students, checked free of hidden tests (nbgrader issue #917)
    kept = coursetools.feedback(root, aid, release=False)
    assert {p.parent.parent.name for p in kept} >= {"solver", "untouched"}
    secrets = coursetools.hidden_test_lines(aid)
    assert secrets, f"{aid} has no hidden tests to protect"
    for page in kept:
        html = page.read_text(encoding="utf-8")
        assert "BEGIN HIDDEN TESTS" not in html
        assert not [s for s in secrets if s in html], f"{page} quotes a hidden test"
