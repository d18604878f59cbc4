"""The book builds with Jupyter Book 1.x, executes every lesson, and works offline."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

HTML = REPO / "_build" / "html"


@pytest.fixture(scope="module")
def built_book() -> Path:
    jb = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run([str(jb), "build", str(REPO), "--builder", "html", "-W", "--keep-going"],
                          cwd=REPO, capture_output=True, text=True, timeout=3000)
    # keep the log: it holds "Executed notebook in N seconds" for every lesson
    (REPO / "_build" / "book-build.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")
    assert proc.returncode == 0, f"book build failed:\n{proc.stdout[-6000:]}\n{proc.stderr[-6000:]}"
    return HTML


# The bars of the design: a lesson runs in 90 s on this CPU, an application lesson (chapter 06)
# in 180 s, and all lessons together in 15 minutes. Measured by the build that executes them
# (while the other test worker is busy too, so these are upper bounds). A lesson taken from
# the execution cache is not timed.
LESSON_SECONDS, APPLICATION_SECONDS, COURSE_SECONDS = 90, 180, 15 * 60


@pytest.mark.slow
def test_lessons_run_within_their_time_bars(built_book: Path):
    log = (REPO / "_build" / "book-build.log").read_text(encoding="utf-8")
    times = {Path(path).relative_to(REPO).as_posix(): float(sec) for path, sec in
             re.findall(r"(\S+\.ipynb): Executed notebook in ([0-9.]+) seconds", log)}
    executed = set(re.findall(r"(\S+\.ipynb): Executing notebook", log))
    assert {(REPO / t).as_posix() for t in times} == executed, "a lesson started but never finished"
    if not times:
        pytest.skip("every lesson came from the execution cache: nothing was timed")
    for nb, sec in times.items():
        bar = APPLICATION_SECONDS if "06_applications" in nb else LESSON_SECONDS
        assert sec <= bar, f"{nb} took {sec:.0f} s to execute (bar: {bar} s)"
    assert sum(times.values()) <= COURSE_SECONDS, f"all lessons took {sum(times.values()):.0f} s"
    print("lesson execution times:", {k: round(v, 1) for k, v in times.items()})


@pytest.mark.slow
def test_every_chapter_page_is_built(built_book: Path):
    assert (built_book / "index.html").exists()
    for nb in REPO.glob("chapters/*/*.ipynb"):
        page = built_book / nb.relative_to(REPO).with_suffix(".html")
        assert page.exists(), f"{page} was not built"


@pytest.mark.slow
def test_lessons_are_executed_and_exercises_are_not(built_book: Path):
    for nb in REPO.glob("chapters/*/0*.ipynb"):
        html = (built_book / nb.relative_to(REPO).with_suffix(".html")).read_text(encoding="utf-8")
        assert '<div class="cell_output' in html, f"{nb.name}: no outputs in the built page"
        assert "Traceback" not in html, f"{nb.name}: a traceback was rendered"
    for nb in REPO.glob("chapters/*/exercises.ipynb"):
        html = (built_book / nb.relative_to(REPO).with_suffix(".html")).read_text(encoding="utf-8")
        assert "NotImplementedError" in html, f"{nb.name}: the exercise stubs are missing"
        assert '<div class="cell_output' not in html, f"{nb.name}: the student notebook was executed"


@pytest.mark.slow
def test_math_renders_offline(built_book: Path):
    """No page loads MathJax (or anything else) from a CDN; the local MathJax is shipped."""
    for page in built_book.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        scripts = re.findall(r'<script[^>]+src="([^"]+)"', html)
        remote = [s for s in scripts if s.startswith(("http:", "https:", "//"))]
        assert not remote, f"{page.relative_to(built_book)} loads remote scripts: {remote}"
        assert "cdn.jsdelivr" not in html and "cdnjs" not in html
    # Sphinx loads MathJax only on pages that hold math: each of those must load our copy
    with_math = [p for p in built_book.rglob("*.html") if 'class="math' in p.read_text(encoding="utf-8")]
    assert len(with_math) >= 10, f"only {len(with_math)} pages hold math"
    for page in with_math:
        html = page.read_text(encoding="utf-8")
        assert re.search(r'<script[^>]+src="[^"]*_static/mathjax/tex-chtml\.js', html), (
            f"{page.relative_to(built_book)} holds math but does not load the local MathJax")
    assert (built_book / "_static" / "mathjax" / "tex-chtml.js").exists()
    assert (built_book / "_static" / "mathjax" / "output" / "chtml" / "fonts" / "woff-v2").is_dir()
