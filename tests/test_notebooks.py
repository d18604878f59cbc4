"""Repository hygiene for notebooks: no outputs committed, student copies never drift from
their sources, every notebook is in the table of contents, every exercise is well formed."""

import json
import re
from pathlib import Path

import pytest
import yaml
from conftest import REPO, coursetools

NOTEBOOKS = sorted(p for p in REPO.glob("*/**/*.ipynb")
                   if not any(part.startswith(".") or part in {"_build", "release", "node_modules"}
                              for part in p.relative_to(REPO).parts))
ASSIGNMENTS = coursetools.assignments()


def test_there_is_something_to_check():
    assert ASSIGNMENTS, "no solutions/*/exercises.ipynb found"
    assert any("chapters" in p.parts for p in NOTEBOOKS), "no lesson notebooks found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [i for i, c in enumerate(nb["cells"])
             if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; strip them before committing"


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_student_version_matches_source(aid: str, tmp_path: Path):
    """chapters/<aid>/exercises.ipynb must be exactly what nbgrader makes of solutions/<aid>."""
    committed = coursetools.CHAPTERS / aid / coursetools.NOTEBOOK
    assert committed.exists(), f"{committed} is missing: run `make student`"
    coursetools.make_course(tmp_path, [aid])
    fresh = coursetools.normalised(coursetools.generate(tmp_path, aid))
    assert committed.read_text(encoding="utf-8") == fresh, (
        f"{committed.relative_to(REPO)} differs from what solutions/{aid} generates: run `make student`")


@pytest.mark.parametrize("aid", ASSIGNMENTS)
def test_exercise_source_is_well_formed(aid: str):
    nb = json.loads((coursetools.SOLUTIONS / aid / coursetools.NOTEBOOK).read_text(encoding="utf-8"))
    meta = [c["metadata"].get("nbgrader", {}) for c in nb["cells"]]
    ids = [m["grade_id"] for m in meta if m]
    assert len(ids) == len(set(ids)), f"{aid}: duplicate grade_id in {ids}"
    graded = [(c, m) for c, m in zip(nb["cells"], meta, strict=True) if m.get("grade")]
    assert len(graded) >= 4, f"{aid}: expected at least 4 graded test cells, found {len(graded)}"
    for cell, m in graded:
        src = "".join(cell["source"])
        assert m.get("locked") and m.get("points", 0) > 0, f"{aid}/{m['grade_id']}: tests must be locked with points"
        assert "### BEGIN HIDDEN TESTS" in src, f"{aid}/{m['grade_id']}: no hidden tests"
    solutions = [c for c, m in zip(nb["cells"], meta, strict=True) if m.get("solution")]
    assert solutions and all("### BEGIN SOLUTION" in "".join(c["source"]) for c in solutions)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


def _toc_files(node) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("file", "root") and isinstance(value, str):
                out.add(value)
            else:
                out |= _toc_files(value)
    elif isinstance(node, list):
        for item in node:
            out |= _toc_files(item)
    return out


def test_every_chapter_notebook_is_in_the_toc():
    listed = _toc_files(yaml.safe_load((REPO / "_toc.yml").read_text()))
    for nb in (p for p in NOTEBOOKS if "chapters" in p.parts):
        stem = str(nb.relative_to(REPO).with_suffix(""))
        assert stem in listed, f"{stem} is not listed in _toc.yml"
    for entry in listed:
        assert any((REPO / f"{entry}{ext}").exists() for ext in (".md", ".ipynb")), f"_toc.yml lists missing {entry}"


def test_lessons_glue_their_numbers():
    """A lesson that states numbers in prose glues them; no lesson types a glue name that is not defined."""
    for nb_path in (p for p in NOTEBOOKS if "chapters" in p.parts and p.name != "exercises.ipynb"):
        nb = json.loads(nb_path.read_text(encoding="utf-8"))
        text = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        used = set(re.findall(r"\{glue:(?:text|)\}`([A-Za-z0-9_]+)", text))
        defined = set(re.findall(r"glue\(\s*[\"']([A-Za-z0-9_]+)[\"']", code))
        assert used <= defined, f"{nb_path.name}: glued names used but never defined: {sorted(used - defined)}"
