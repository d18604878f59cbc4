"""The course hub of deploy/jupyterhub, run for real on loopback.

One JupyterHub (its own sqlite database, cookie secret and exchange in a temporary folder, the
configurable-http-proxy of deploy/jupyterhub/node_modules) with the test-password authenticator
and the simple spawner: an instructor and a student are created through the REST API, log in with
the password, and use nbgrader through their own servers as a class would: the instructor's
server serves the formgrader and the student's does not; an assignment released with the
repository's tooling is listed, fetched and submitted through the student's assignment list, and
collected through the instructor's formgrader. Every process the hub starts is ended at the end,
passed or failed.
"""

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import nbformat
import psutil
import pytest
import requests
from conftest import REPO
from conftest import coursetools as ct

DEPLOY = REPO / "deploy" / "jupyterhub"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
JUPYTERHUB = Path(sys.executable).parent / "jupyterhub"
COURSE_ID = "rnn-course"
INSTRUCTOR, STUDENT, OUTSIDER = "ada-instructor", "ben-student", "cy-outsider"
PASSWORD = "course-hub-test-password"  # SharedPasswordAuthenticator wants 8 characters or more
HTTP_TIMEOUT = 30  # one request to the hub or a server, seconds

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("jupyterhub")]  # one hub, one worker


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(check: Callable[[], object], timeout: float, what: str, hub=None) -> object:
    """Poll ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if hub is not None and hub.proc.poll() is not None:
            pytest.fail(f"the hub exited ({hub.proc.returncode}) while waiting for {what}:\n"
                        f"{hub.log_tail()}")
        try:
            result = check()
        except requests.RequestException:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            msg = f"timed out after {timeout:.0f} s waiting for {what}"
            pytest.fail(msg + (f"\n{hub.log_tail()}" if hub is not None else ""))
        time.sleep(0.5)


def _tiny_source(course: Path) -> str:
    """A one-task nbgrader source notebook (used only while solutions/ has no assignment)."""
    aid = "00_hub_check"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    answer = nbformat.v4.new_code_cell(
        "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION")
    answer.metadata["nbgrader"] = {"grade_id": "add", "solution": True, "grade": False,
                                   "locked": False, "task": False, "schema_version": 3}
    check = nbformat.v4.new_code_cell("assert add(1, 2) == 3")
    check.metadata["nbgrader"] = {"grade_id": "test_add", "solution": False, "grade": True,
                                  "points": 1, "locked": True, "task": False, "schema_version": 3}
    nb.cells = [answer, check]
    (course / "solutions" / aid).mkdir(parents=True)
    nbformat.write(nb, course / "solutions" / aid / ct.NOTEBOOK)
    return aid


class Hub:
    """A running hub: its URL, admin token, folders, and the processes it started."""

    def __init__(self, base: Path):
        self.base = base
        self.state, self.homes = base / "state", base / "home"
        self.exchange, self.course = base / "exchange", base / "course"
        self.port, self.hub_port, self.api_port = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = secrets.token_hex(32)
        self.log = base / "jupyterhub.log"
        self.proc: subprocess.Popen | None = None
        self.seen: dict[int, psutil.Process] = {}  # every process of this hub ever observed

    # --- processes ------------------------------------------------------------------------------

    def start(self) -> None:
        self.exchange.mkdir()
        env = {
            **os.environ,
            "PATH": os.pathsep.join([str(JUPYTERHUB.parent), os.environ.get("PATH", "")]),
            "COURSE_HUB_AUTH": "dummy",
            "COURSE_HUB_SPAWNER": "simple",
            "COURSE_HUB_PASSWORD": PASSWORD,
            "COURSE_HUB_ADMIN_TOKEN": self.token,
            "COURSE_HUB_STATE": str(self.state),
            "COURSE_HUB_HOMES": str(self.homes),
            "COURSE_HUB_CULL_IDLE": "0",
            "COURSE_INSTRUCTORS": "",  # the test adds its users through the API
            "COURSE_STUDENTS": "",
            "COURSE_ID": COURSE_ID,
            "COURSE_SOURCE": str(self.course),
            "NBGRADER_EXCHANGE": str(self.exchange),
        }
        cmd = [str(JUPYTERHUB), "-f", str(DEPLOY / "jupyterhub_config.py"),
               f"--JupyterHub.bind_url={self.url}",
               f"--JupyterHub.hub_bind_url=http://127.0.0.1:{self.hub_port}",
               f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{self.api_port}"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.base, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        self.track()
        _wait_for(lambda: requests.get(f"{self.url}/hub/api/", timeout=5).ok, 60,
                  "the hub's API", hub=self)

    def track(self) -> None:
        """Remember the hub and everything under it (servers start their own sessions, so the
        process group alone would miss them), and anything else carrying this hub's API URL."""
        if self.proc is None:
            return
        try:
            root = psutil.Process(self.proc.pid)
            for proc in [root, *root.children(recursive=True)]:
                self.seen.setdefault(proc.pid, proc)
        except psutil.NoSuchProcess:
            pass
        marker = f"127.0.0.1:{self.hub_port}/hub/api"
        for proc in psutil.process_iter():
            try:
                if marker in proc.environ().get("JUPYTERHUB_API_URL", ""):
                    self.seen.setdefault(proc.pid, proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue

    def stop(self) -> None:
        """Stop the hub (it stops the proxy and the servers), then end whatever is left."""
        if self.proc is None:
            return
        self.track()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        # psutil checks each process's start time, so a recycled pid is never signalled
        left = [p for p in self.seen.values() if p.is_running()]
        for proc in left:
            try:
                proc.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(left, timeout=10)
        for proc in alive:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        psutil.wait_procs(alive, timeout=10)

    def log_tail(self, chars: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    # --- REST API with the admin token ----------------------------------------------------------

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers,
                                timeout=HTTP_TIMEOUT, **kwargs)

    def start_server(self, name: str) -> requests.Response:
        return self.api("POST", f"/users/{name}/server")

    def wait_ready(self, name: str, timeout: float = 150) -> dict:
        def ready():
            server = self.api("GET", f"/users/{name}").json()["servers"].get("", {})
            return server if server.get("ready") else None
        server = _wait_for(ready, timeout, f"the server of {name}", hub=self)
        self.track()
        return server

    def login(self, name: str) -> requests.Session:
        """A browser-like session: the hub's login form with the test password."""
        session = requests.Session()
        page = session.get(f"{self.url}/hub/login", timeout=HTTP_TIMEOUT)
        xsrf = re.search(r'name="_xsrf"[^>]*value="([^"]+)"', page.text)
        assert page.ok and xsrf, f"no login form at /hub/login ({page.status_code})"
        done = session.post(f"{self.url}/hub/login", timeout=HTTP_TIMEOUT,
                            data={"username": name, "password": PASSWORD, "_xsrf": xsrf.group(1)})
        assert done.ok and done.url.startswith(f"{self.url}/user/{name}/"), \
            f"{name} did not reach their server after logging in: {done.status_code} {done.url}"
        return session


def _post(session: requests.Session, url: str, name: str, **kwargs) -> requests.Response:
    """POST to ``name``'s server with its XSRF cookie echoed in the header, as JupyterLab does."""
    xsrf = session.cookies.get("_xsrf", path=f"/user/{name}/")
    return session.post(url, headers={"X-XSRFToken": xsrf or ""}, timeout=HTTP_TIMEOUT, **kwargs)


@pytest.fixture(scope="module")
def hub(tmp_path_factory) -> Iterator[Hub]:
    if not JUPYTERHUB.exists():
        pytest.fail(f"{JUPYTERHUB} is missing: install the dev dependencies (make setup)")
    if not PROXY.exists():
        pytest.fail(f"{PROXY} is missing: run `npm ci` in {DEPLOY} (make setup)")
    running = Hub(tmp_path_factory.mktemp("hub"))
    # the instructor's course: a clone of the repository as far as nbgrader is concerned
    running.course.mkdir()
    shutil.copy2(REPO / "nbgrader_config.py", running.course / "nbgrader_config.py")
    try:
        running.start()
        created = running.api("POST", "/users",
                              json={"usernames": [INSTRUCTOR, STUDENT, OUTSIDER]})
        assert created.status_code == 201, created.text
        for group, user in [(f"formgrade-{COURSE_ID}", INSTRUCTOR),
                            (f"nbgrader-{COURSE_ID}", STUDENT)]:
            added = running.api("POST", f"/groups/{group}/users", json={"users": [user]})
            assert added.ok, added.text
        for name in (INSTRUCTOR, STUDENT):
            started = running.start_server(name)
            assert started.status_code in (201, 202), started.text
        for name in (INSTRUCTOR, STUDENT):
            running.wait_ready(name)
        yield running
    finally:
        running.stop()
    assert not [p for p in running.seen.values() if p.is_running()], "processes left running"


def test_formgrader_for_instructors_assignment_list_for_students(hub: Hub):
    instructor, student = hub.login(INSTRUCTOR), hub.login(STUDENT)
    home = f"{hub.url}/user/{INSTRUCTOR}"
    page = instructor.get(f"{home}/formgrader", timeout=HTTP_TIMEOUT)
    assert page.status_code == 200 and "formgrade" in page.text, page.status_code
    courses = instructor.get(f"{home}/formgraders", timeout=HTTP_TIMEOUT).json()
    assert courses["success"], courses
    assert [(c["course_id"], c["kind"]) for c in courses["value"]] == [(COURSE_ID, "local")]

    mine = f"{hub.url}/user/{STUDENT}"
    listing = student.get(f"{mine}/assignments", params={"course_id": COURSE_ID},
                          timeout=HTTP_TIMEOUT).json()
    assert listing["success"], listing
    assert student.get(f"{mine}/courses", timeout=HTTP_TIMEOUT).json()["success"]
    # the formgrader is not served to students, nor shown in their JupyterLab
    assert student.get(f"{mine}/formgrader", timeout=HTTP_TIMEOUT).status_code == 404
    assert student.get(f"{mine}/formgraders", timeout=HTTP_TIMEOUT).status_code == 404
    lab = student.get(f"{mine}/lab", timeout=HTTP_TIMEOUT).text
    page_config = json.loads(re.search(
        r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', lab, re.S)[1])
    assert "@jupyter/nbgrader:formgrader" in page_config["disabledExtensions"]
    # and a student cannot open the instructor's server at all
    assert student.get(f"{home}/formgrader", timeout=HTTP_TIMEOUT).status_code == 403


def test_roles_get_their_own_resource_limits(hub: Hub):
    limits = {}
    for proc in hub.seen.values():
        try:
            env, cmdline = proc.environ(), " ".join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if "jupyterhub-singleuser" in cmdline:
            limits[env["JUPYTERHUB_USER"]] = (env.get("MEM_LIMIT"), env.get("CPU_LIMIT"),
                                              env.get("COURSE_ROLE"))
    assert limits == {INSTRUCTOR: (str(4 * 1024**3), "2.0", "instructor"),
                      STUDENT: (str(2 * 1024**3), "1.0", "student")}


def test_a_user_outside_the_course_gets_no_server(hub: Hub):
    refused = hub.start_server(OUTSIDER)
    assert refused.status_code == 403, refused.text
    assert "neither" in refused.json()["message"]  # the hook says why, and what to do
    assert not hub.api("GET", f"/users/{OUTSIDER}").json()["servers"]


def test_released_assignment_is_fetched_submitted_and_collected(hub: Hub, monkeypatch):
    monkeypatch.setenv("NBGRADER_EXCHANGE", str(hub.exchange))
    ids = ct.assignments()
    aid = ids[0] if ids else _tiny_source(hub.course)
    if ids:
        ct.make_course(hub.course, [aid])
    ct.release(hub.course, aid)  # what `make release` runs, against the hub's exchange

    instructor, student = hub.login(INSTRUCTOR), hub.login(STUDENT)
    mine = f"{hub.url}/user/{STUDENT}"
    listing = student.get(f"{mine}/assignments", params={"course_id": COURSE_ID},
                          timeout=HTTP_TIMEOUT).json()
    assert listing["success"], listing
    assert [(a["assignment_id"], a["status"]) for a in listing["value"]] == [(aid, "released")]

    fetched = _post(student, f"{mine}/assignments/fetch", STUDENT,
                    data={"course_id": COURSE_ID, "assignment_id": aid}).json()
    assert fetched["success"] and fetched["value"][0]["status"] == "fetched", fetched
    notebook = hub.homes / STUDENT / aid / ct.NOTEBOOK
    assert "YOUR CODE HERE" in notebook.read_text(encoding="utf-8")

    submitted = _post(student, f"{mine}/assignments/submit", STUDENT,
                      data={"course_id": COURSE_ID, "assignment_id": aid}).json()
    assert submitted["success"], submitted
    subs = [a for a in submitted["value"] if a["status"] == "submitted"]
    assert [s["student_id"] for s in subs] == [STUDENT]  # the hub's name, not the OS user

    home = f"{hub.url}/user/{INSTRUCTOR}"
    listed = instructor.get(f"{home}/formgrader/api/assignments", timeout=HTTP_TIMEOUT).json()
    assignments = {a["name"]: a for a in listed}
    assert assignments[aid]["status"] == "released", assignments
    # the formgrader reads the course's gradebook (where `make grade` writes), not one of its own
    assert assignments[aid]["max_score"] > 0, (
        f"the formgrader does not see {aid} in the course's gradebook: "
        f"{sorted(p.name for p in (hub.homes / INSTRUCTOR).glob('*.db'))} in the instructor's "
        f"home; nbgrader_config.py's db_url must not depend on the current folder")
    collected = _post(instructor, f"{home}/formgrader/api/assignment/{aid}/collect",
                      INSTRUCTOR).json()
    assert collected["success"], collected
    assert (hub.course / "submitted" / STUDENT / aid / ct.NOTEBOOK).exists(), collected["log"]
