"""The instructor-side nbgrader plug-ins on hand-made notebooks: hidden tests and their markers
never reach feedback, outputs are capped by characters, suspicious code is named with its line."""

import nbformat
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_lib.nbgrader_plugins import (
    BEGIN,
    END,
    REDACTED,
    HideHiddenTests,
    LimitOutputSize,
    audit_source,
    split_hidden,
)

SECRET = "assert hidden_answer(12345) == 67890, 'the hidden value'"
TEST_SOURCE = f"check_close(f(1), 2.0)\n{BEGIN}\n{SECRET}\n{END}"


def _graded_cell(source: str, outputs: list) -> nbformat.NotebookNode:
    cell = new_code_cell(source, outputs=outputs)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": "t1", "points": 2, "locked": True,
                                 "solution": False, "schema_version": 3}
    return cell


def _feedback(cells: list) -> nbformat.NotebookNode:
    nb, _ = HideHiddenTests().preprocess(new_notebook(cells=cells), {})
    return nb


def test_split_hidden_separates_the_region():
    visible, hidden = split_hidden(TEST_SOURCE)
    assert visible == "check_close(f(1), 2.0)"
    assert hidden == [SECRET]


def test_hidden_source_and_quoting_outputs_are_removed():
    traceback = ["AssertionError Traceback (most recent call last)",
                 f"      2 {BEGIN}\n----> 3 {SECRET}\n      4 {END}", "AssertionError: the hidden value"]
    cells = [_graded_cell(TEST_SOURCE, [
        new_output("stream", name="stdout", text=f"ok\n{SECRET}\nbye\n"),
        new_output("error", ename="AssertionError", evalue="the hidden value", traceback=traceback)])]
    nb = _feedback(cells)
    text = nbformat.writes(nb)
    assert "12345" not in text and "67890" not in text, "hidden test text survived"
    assert BEGIN not in text and END not in text
    cell = nb.cells[0]
    assert cell.source == "check_close(f(1), 2.0)"
    assert cell.outputs[0].text == f"ok\n{REDACTED}\nbye\n"
    assert cell.outputs[1].traceback[1] == "(the failing check is one of the hidden tests)"


def test_a_traceback_showing_only_the_markers_is_replaced():
    # a short hidden line (too short to be a secret by itself) next to the marker
    source = f"x = 1\n{BEGIN}\nassert q\n{END}"
    traceback = [f"      1 x = 1\n      2 {BEGIN}\n----> 3 assert q", "AssertionError: "]
    nb = _feedback([_graded_cell(source, [new_output("error", ename="AssertionError", evalue="",
                                                      traceback=traceback)])])
    assert BEGIN not in nbformat.writes(nb)
    assert "assert q" not in "".join(nb.cells[0].outputs[0].traceback)


def test_outputs_of_visible_code_are_kept():
    nb = _feedback([_graded_cell(TEST_SOURCE, []),
                    new_code_cell("print('hello')", outputs=[new_output("stream", name="stdout", text="hello\n")])])
    assert nb.cells[1].outputs[0].text == "hello\n"


def test_limit_output_size_caps_characters():
    huge = "x" * 100_000
    cell = new_code_cell("print('x' * 100_000)", outputs=[new_output("stream", name="stdout", text=huge)])
    nb = new_notebook(cells=[cell])
    out, _ = LimitOutputSize(max_chars=1_000).preprocess(nb, {})
    text = out.cells[0].outputs[0].text
    assert len(text) < 1_100 and "100,000 characters" in text


def test_audit_names_what_and_where():
    assert audit_source("y = 2 * x\n") == []
    reasons = audit_source("import builtins\nx = 1\nwhile True:\n    pass\n")
    assert any("'builtins'" in r and "line 1" in r for r in reasons), reasons
    assert any("while True" in r and "line 3" in r for r in reasons), reasons
    assert any("open" in r for r in audit_source("open('/srv/source/x.ipynb').read()"))
    assert audit_source("def f(:\n")[0].startswith("does not parse")
