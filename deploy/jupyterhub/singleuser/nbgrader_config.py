"""nbgrader configuration of every single-user server on the course hub (instructors and students).

The hub puts this folder on JUPYTER_CONFIG_PATH and sets the variables read here (see
jupyterhub_config.py). An instructor's course folder has its own nbgrader_config.py (the
repository's: source folder, time limits, feedback) that nbgrader loads on top of this one.
"""

import os

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

COURSE_ID = os.environ.get("NBGRADER_COURSE_ID", "rnn-course")
c.CourseDirectory.course_id = COURSE_ID
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")

# A user's courses are their hub groups: nbgrader-<course> (students) and formgrade-<course>
# (instructors). A student lists, fetches and submits only in courses they are enrolled in; the
# server's hub token answers the question (see c.Spawner.server_token_scopes).
c.Authenticator.plugin_class = JupyterHubAuthPlugin

# Collecting warns when a submission's files are not owned by the student named in it: meaningful
# with one system user per student, noise where every server runs as one user (the hub sets 0).
c.ExchangeCollect.check_owner = os.environ.get("NBGRADER_CHECK_OWNER", "1") != "0"

if os.environ.get("COURSE_ROLE") == "student" and os.environ.get("JUPYTERHUB_USER"):
    # A student is who the hub says they are. nbgrader would otherwise name a submission after
    # the OS user of the server: right with one system user per student, but "jovyan" in
    # containers and the hub's own user with the simple spawner.
    c.CourseDirectory.student_id = os.environ["JUPYTERHUB_USER"]

if os.environ.get("COURSE_ROLE") == "instructor":
    # The formgrader's course: a clone of the course repository at ~/<course id> (on the hub, a
    # shared volume for several instructors); it must lie inside the server's root folder.
    c.CourseDirectory.root = os.environ.get("NBGRADER_COURSE_ROOT") or os.path.join(
        os.path.expanduser("~"), COURSE_ID)
