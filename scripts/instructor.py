"""Instructor commands: release, collect, grade, feedback, export (``make release`` etc.).

Run from the course folder (this repository, or a copy of it on the hub) with nbgrader's
exchange reachable (``c.Exchange.root`` in nbgrader_config.py, or ``NBGRADER_EXCHANGE``).

    make release  [ASSIGNMENT=01_sequence_data]   generate the student version(s) and release them
    make collect  [ASSIGNMENT=...]                collect every submission from the exchange
    make grade    [ASSIGNMENT=...]                autograde the whole class, then audit (see below)
    make feedback [ASSIGNMENT=...]                feedback without hidden tests, returned to students
    make export                                   grades.csv for the whole course

Without ASSIGNMENT every assignment in solutions/ is processed.

``grade`` does more than ``nbgrader autograde``: a submission whose cell hit the time limit, whose
kernel died, or whose own code touches the grader (builtins, the checks of course_lib.grading,
files on disk, exiting the kernel) is given 0 on every test cell *for review*, with the reason
written into the gradebook comments and into ``reports/<assignment>-grading.csv``. The instructor
can override it in the formgrader.
"""

from __future__ import annotations

import sys
from pathlib import Path

import coursetools as ct

USAGE = "usage: instructor.py {release|collect|grade|feedback|export} [assignment ...]"


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"release", "collect", "grade", "feedback", "export"}:
        print(USAGE, file=sys.stderr)
        return 2
    command, ids = argv[0], argv[1:] or ct.assignments()
    unknown = sorted(set(ids) - set(ct.assignments()))
    if unknown:
        print(f"unknown assignment(s) {unknown}; known: {ct.assignments()}", file=sys.stderr)
        return 2
    root = Path.cwd()
    if command == "export":
        out = ct.export_grades(root, root / "grades.csv")
        print(f"wrote {out}")
        return 0
    for aid in ids:
        if command == "release":
            ct.release(root, aid)
            print(f"released {aid}")
        elif command == "collect":
            ct.collect(root, aid)
            print(f"collected {aid}")
        elif command == "grade":
            report = ct.grade(root, aid)
            flagged = [r for r in report if r["flagged"]]
            print(f"graded {aid}: {len(report)} submissions, {len(flagged)} held for review "
                  f"(reports/{aid}-grading.csv)")
            for row in flagged:
                print(f"  {row['student']}: {row['reasons']}")
        elif command == "feedback":
            paths = ct.feedback(root, aid, release=True)
            print(f"feedback for {aid}: {len(paths)} files returned, checked free of hidden tests")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
