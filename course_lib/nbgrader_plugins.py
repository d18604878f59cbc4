"""nbgrader plug-ins used by the course's grading (instructor side; students never call these).

- ``HideHiddenTests``: a feedback preprocessor. nbgrader's own feedback shows the autograded
  notebook, whose test cells hold the hidden tests again (nbgrader issue #917), and a failing hidden
  check shows its own source line in the traceback. This removes the hidden regions from test cells
  and redacts every output line that quotes a hidden-test line (a student can also ``print`` a file
  read from disk).
- ``LimitOutputSize``: nbgrader's ``LimitOutput`` counts lines only, so one 100 MB line went
  straight into the gradebook and the feedback; this also caps the characters of every output.
- ``audit_source``: static reasons to hold a submission for review (tampering with the grader,
  reading files, exiting the kernel); see ``scripts/instructor.py``.
"""

from __future__ import annotations

import ast
import re

from nbformat import NotebookNode
from nbgrader.preprocessors import LimitOutput, NbGraderPreprocessor
from nbgrader.utils import is_grade
from traitlets import Integer

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
REDACTED = "[hidden test redacted]"


def split_hidden(source: str) -> tuple[str, list[str]]:
    """Return ``(visible source, hidden lines)`` of a test cell's source."""
    visible, hidden, inside = [], [], False
    for line in source.split("\n"):
        if BEGIN in line:
            inside = True
        elif END in line:
            inside = False
        elif inside:
            hidden.append(line)
        else:
            visible.append(line)
    return "\n".join(visible), hidden


def squeeze(text: str) -> str:
    """Letters and digits only: a quote survives JSON or HTML escaping in this form."""
    return re.sub(r"[\W_]+", "", text)


def quotes_secret(text: str, secrets: list[str]) -> bool:
    """True if ``text`` contains one of ``secrets`` (compared in squeezed form)."""
    flat = squeeze(text)
    return any(squeeze(s) and squeeze(s) in flat for s in secrets)


def secret_lines(hidden: list[str], visible: str = "") -> list[str]:
    """Hidden-test lines worth protecting: long enough to be specific, and not also visible."""
    shown = {squeeze(v) for v in visible.split("\n")}
    return [h.strip() for h in hidden if len(squeeze(h)) >= 10 and squeeze(h) not in shown]


def _redact(text: str, secrets: list[str]) -> str:
    return "\n".join(REDACTED if quotes_secret(line, secrets) else line for line in text.split("\n"))


class HideHiddenTests(NbGraderPreprocessor):
    """Remove hidden tests from test cells and redact any output quoting them."""

    def preprocess(self, nb: NotebookNode, resources: dict) -> tuple[NotebookNode, dict]:
        hidden: list[str] = []
        for cell in nb.cells:
            if cell.cell_type == "code" and is_grade(cell):
                cell.source, cell_hidden = split_hidden(cell.source)
                hidden += cell_hidden
        visible = "\n".join(c.source for c in nb.cells)
        # the markers too: a traceback that shows them shows the hidden region around them
        secrets = secret_lines(hidden, visible) + [BEGIN, END]
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            for out in cell.get("outputs", []):
                if out.output_type == "stream":
                    out.text = _redact(out.text, secrets)
                elif out.output_type == "error":
                    if any(quotes_secret(_strip_ansi(t), secrets) for t in out.traceback):
                        out.traceback = [f"{out.ename}: {out.evalue}",
                                         "(the failing check is one of the hidden tests)"]
                    out.evalue = _redact(out.evalue, secrets)
                elif "data" in out:
                    for mime, value in list(out.data.items()):
                        if isinstance(value, str):
                            out.data[mime] = _redact(value, secrets)
        return nb, resources


class LimitOutputSize(LimitOutput):
    """nbgrader's ``LimitOutput`` plus a cap on the characters of each output."""

    max_chars = Integer(20_000, help="maximum characters kept of one output").tag(config=True)

    def _cut(self, text: str) -> str:
        if len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n... output truncated ({len(text):,} characters) ..."

    def preprocess_cell(self, cell: NotebookNode, resources: dict, cell_index: int):
        cell, resources = super().preprocess_cell(cell, resources, cell_index)
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if out.output_type == "stream":
                out.text = self._cut(out.text)
            elif out.output_type == "error":
                out.evalue = self._cut(out.evalue)
                out.traceback = [self._cut(t) for t in out.traceback]
            elif "data" in out:
                for mime, value in list(out.data.items()):
                    if isinstance(value, str) and len(value) > self.max_chars:
                        # an image or HTML cut in half is useless: keep a note instead
                        out.data[mime] = value if mime.startswith("image/") and len(value) < 2_000_000 \
                            else f"[{mime} output of {len(value):,} characters removed]"
        return cell, resources


def _strip_ansi(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


# What in a student's cell holds the submission for review: code that can tamper with the grader
# (builtins, sys.modules, the checks of course_lib.grading), read the instructor's files, or end the
# kernel. Our exercises need none of it.
SUSPICIOUS_NAMES = {
    "builtins", "__builtins__", "__import__", "__globals__", "__code__", "__subclasses__",
    "globals", "exec", "eval", "compile", "open", "setattr", "delattr", "exit", "quit",
    "get_ipython", "grading", "forbid_shortcuts", "check_close", "check_shape", "check_equal",
    "check_rel_error", "check_raises", "check_type", "ShortcutError", "SHORTCUTS",
}
SUSPICIOUS_ATTRIBUTES = {
    "sys.modules", "sys.exit", "sys.settrace", "sys.setprofile", "os._exit", "os.system",
    "os.kill", "os.remove", "os.listdir", "os.walk", "os.popen", "os.environ",
}
SUSPICIOUS_MODULES = {
    "os", "builtins", "importlib", "subprocess", "shutil", "pathlib", "glob", "io", "ctypes",
    "signal", "inspect", "gc", "atexit", "nbgrader", "sqlite3", "pickle", "socket", "threading",
    "multiprocessing", "course_lib.grading",
}


def audit_source(source: str) -> list[str]:
    """Reasons a student's code cell is held for review (empty list if none).

    Inputs:
    - source: the code of one cell the student wrote.

    Returns:
    - human-readable reasons, e.g. ``["uses 'builtins' (line 2)"]``, in line order.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"does not parse: {exc.msg} (line {exc.lineno})"]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name) and node.id in SUSPICIOUS_NAMES:
            found.append((line, f"uses {node.id!r}"))
        elif isinstance(node, ast.Attribute):
            base = node.value.id if isinstance(node.value, ast.Name) else ""
            if f"{base}.{node.attr}" in SUSPICIOUS_ATTRIBUTES or node.attr in SUSPICIOUS_NAMES - {"eval", "compile", "exit", "open"}:
                found.append((line, f"uses '{base + '.' if base else ''}{node.attr}'"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for mod in mods:
                if mod in SUSPICIOUS_MODULES or mod.split(".")[0] in SUSPICIOUS_MODULES:
                    found.append((line, f"imports {mod!r}"))
            if isinstance(node, ast.ImportFrom):
                for alias in node.names:
                    if alias.name in SUSPICIOUS_NAMES:
                        found.append((line, f"imports {alias.name!r}"))
        elif isinstance(node, ast.While) and isinstance(node.test, ast.Constant) and node.test.value:
            if not any(isinstance(n, (ast.Break, ast.Return, ast.Raise)) for n in ast.walk(node)):
                found.append((line, "has an endless 'while True' loop"))
    return [f"{why} (line {line})" for line, why in sorted(set(found))]
