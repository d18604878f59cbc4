"""nbgrader configuration of the course (read by every `nbgrader` command run in this folder).

The exercise sources live in ``solutions/<assignment>/exercises.ipynb`` (assignment id = chapter
folder name); ``make student`` generates the student copies into ``chapters/``.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)
HERE = os.path.dirname(os.path.abspath(__file__))

c.CourseDirectory.course_id = "rnn-course"
c.CourseDirectory.source_directory = "solutions"   # our source of truth, not nbgrader's "source"
c.CourseDirectory.release_directory = "release"     # generated; ignored by git
# Absolute: the formgrader runs in the instructor's home, the make targets in the course folder,
# and both must read the same gradebook.
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, "gradebook.db")
# Only the notebook is part of an assignment; data come from installed packages.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# Execution limits for grading. Exercise cells run in seconds; a training task gets a bounded
# budget. A cell that runs past `timeout` is interrupted and reported as an error, so an infinite
# loop costs at most `timeout` seconds per cell; `startup_timeout` bounds a kernel that never starts.
c.Execute.timeout = 120
c.Execute.startup_timeout = 60
c.Execute.interrupt_on_timeout = True
c.Execute.execute_retries = 0

# A student printing megabytes of output must not bloat the gradebook or the feedback: nbgrader's
# LimitOutput caps lines only, so ours also caps characters per output.
c.LimitOutputSize.max_lines = 500
c.LimitOutputSize.max_traceback = 50
c.LimitOutputSize.max_chars = 20_000
c.Autograde.autograde_preprocessors = [
    "nbgrader.preprocessors.Execute",
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "course_lib.nbgrader_plugins.LimitOutputSize",
    "nbgrader.preprocessors.SaveAutoGrades",
    "nbgrader.preprocessors.AssignLatePenalties",
    "nbgrader.preprocessors.CheckCellMetadata",
]

# Hidden tests stay hidden: feedback is generated from the autograded notebook with the hidden
# blocks removed (see scripts/instructor.py, which also checks it).
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# The exchange shared by instructors and students (JupyterHub: a shared volume).
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# Feedback never shows hidden tests (nbgrader issue #917): they are removed from the test cells,
# and any output that quotes them is redacted.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.GetGrades",
    "course_lib.nbgrader_plugins.HideHiddenTests",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
