"""JupyterHub for the RNN course: instructors grade in nbgrader's formgrader, students fetch and
submit through the assignment list, and both share one nbgrader exchange.

Run it from the repository root (the README of this folder has the one-line command)::

    COURSE_HUB_PASSWORD=... COURSE_INSTRUCTORS=ada COURSE_STUDENTS=ben,cy \\
        NBGRADER_EXCHANGE=$PWD/exchange \\
        .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

Everything a deployment changes is an environment variable (defaults in brackets):

    COURSE_HUB_AUTH       dummy | oauth [dummy]. dummy: one shared test password, loopback only.
    COURSE_HUB_PASSWORD   the test password of `dummy` (8 characters or more).
    COURSE_HUB_SPAWNER    simple | local [simple with dummy, else local]. simple: no system users,
                          every server runs as the hub's user (testing only); local: one system
                          user per hub user (the hub runs as root).
    COURSE_INSTRUCTORS    usernames put in group formgrade-<course> (comma-separated).
    COURSE_STUDENTS       usernames put in group nbgrader-<course> (comma-separated).
    COURSE_HUB_ADMINS     hub admins (comma-separated; production authenticators only: the
                          test password does not log admins in).
    COURSE_ID             the nbgrader course id [rnn-course].
    NBGRADER_EXCHANGE     the shared exchange folder [/srv/nbgrader/exchange] (the repository's
                          nbgrader_config.py reads the same variable).
    COURSE_SOURCE         the course folder (a clone of this repository) linked into an
                          instructor's home as ~/<course id> when missing [this repository]
                          (simple spawner only; with system users, clone or mount it there).
    COURSE_HUB_STATE      the hub's database, cookie secret and pid file [deploy/jupyterhub/state].
    COURSE_HUB_HOMES      home folders of the simple spawner [<state>/home].
    COURSE_HUB_ADMIN_TOKEN  if set, an API token with the `course-admin` role (users, groups,
                          servers) for scripts and the test; keep it secret.
    COURSE_HUB_MEM_LIMIT, COURSE_HUB_CPU_LIMIT                  students [2G, 1]
    COURSE_HUB_INSTRUCTOR_MEM_LIMIT, COURSE_HUB_INSTRUCTOR_CPU_LIMIT  instructors [4G, 2]
    COURSE_HUB_CULL_IDLE  seconds of inactivity after which a server is stopped [3600; 0: never].

How a single-user server gets its nbgrader configuration (the choice, and why):
the hub knows each user's role from their group, so `course_pre_spawn_hook` below points
JUPYTER_CONFIG_PATH at `singleuser/<role>/` then `singleuser/` of this folder. nbgrader and
Jupyter read their configuration from that path: `singleuser/nbgrader_config.py` (course id,
exchange root, course membership from the hub's groups, an instructor's course folder) and the
role's `jupyter_server_config.json` (which nbgrader server extensions run) and
`labconfig/page_config.json` (which nbgrader panels JupyterLab shows). So nothing is written into
homes (a per-user `nbgrader_config.py` written by a hook would go stale when the course changes and
would need the hook to run with the user's rights), and unlike a global
`/etc/jupyter/nbgrader_config.py` the role decides what each server enables, with no
`jupyter server extension disable --user` per student. On Kubernetes the same files are mounted
with `singleuser.extraFiles` (see README.md).
"""

import importlib.util
import os
import shutil
import sys
from pathlib import Path

from tornado import web

c = get_config()  # noqa: F821  (provided by JupyterHub when it loads this file)

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SINGLEUSER = HERE / "singleuser"
VENV_BIN = Path(sys.executable).parent  # the course's environment: nbgrader, course_lib, kernels


def env_list(name: str) -> list[str]:
    """Usernames from a comma-separated environment variable (blanks dropped)."""
    return [u.strip() for u in os.environ.get(name, "").split(",") if u.strip()]


COURSE_ID = os.environ.get("COURSE_ID", "rnn-course")
# Group names as in nbgrader's JupyterHub docs: nbgrader's JupyterHubAuthPlugin derives a user's
# courses from exactly these prefixes.
INSTRUCTORS = f"formgrade-{COURSE_ID}"
STUDENTS = f"nbgrader-{COURSE_ID}"
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
AUTH = os.environ.get("COURSE_HUB_AUTH", "dummy")
MANAGE_GROUPS = AUTH == "oauth"  # the identity provider owns group membership
SPAWNER = os.environ.get("COURSE_HUB_SPAWNER", "simple" if AUTH == "dummy" else "local")
STATE = Path(os.environ.get("COURSE_HUB_STATE", HERE / "state")).resolve()

# --- the hub's own state and network -----------------------------------------------------------

STATE.mkdir(parents=True, exist_ok=True)
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")
# the proxy pinned in package.json (`npm ci` in this folder); else whatever is on PATH
proxy = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
if proxy.exists():
    c.ConfigurableHTTPProxy.command = [str(proxy)]
elif shutil.which("configurable-http-proxy") is None:
    raise FileNotFoundError(
        f"configurable-http-proxy not found: run `npm ci` in {HERE} (or install it globally)")
# A shared test password never listens beyond this machine; production sets its own bind_url.
c.JupyterHub.bind_url = "http://127.0.0.1:8000" if AUTH == "dummy" else "http://:8000"

# The exchange must exist and be writable by every user (nbgrader's docs: `chmod ugo+rw`);
# on Kubernetes it is a ReadWriteMany volume instead.
if not os.path.isdir(EXCHANGE):
    os.makedirs(EXCHANGE, exist_ok=True)
    os.chmod(EXCHANGE, 0o777)

# --- who can log in ----------------------------------------------------------------------------

c.Authenticator.allow_existing_users = True  # users added by the admin API (rosters) may log in
c.Authenticator.admin_users = set(env_list("COURSE_HUB_ADMINS"))

if AUTH == "dummy":
    # Local testing: one shared password. This is what DummyAuthenticator's `password` did until
    # JupyterHub 5.3 deprecated it for SharedPasswordAuthenticator; without a password,
    # DummyAuthenticator would let anyone in as anyone, so it is not offered at all.
    if len(os.environ.get("COURSE_HUB_PASSWORD", "")) < 8:
        raise ValueError("COURSE_HUB_AUTH=dummy needs COURSE_HUB_PASSWORD (8 characters or more)")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = os.environ["COURSE_HUB_PASSWORD"]
    # only the roster (and users the admin API adds) may log in
    c.Authenticator.allowed_users = set(env_list("COURSE_INSTRUCTORS")) | set(
        env_list("COURSE_STUDENTS"))
elif AUTH == "oauth":
    # Production: the university's identity provider over OpenID Connect (`pip install
    # oauthenticator`; auth state needs JUPYTERHUB_CRYPT_KEY=$(openssl rand -hex 32)).
    # The provider's groups become the hub's groups, so the provider must send
    # formgrade-<course> / nbgrader-<course> (or map its own names in a callable
    # auth_state_groups_key).
    c.JupyterHub.authenticator_class = "generic-oauth"
    c.GenericOAuthenticator.client_id = os.environ["OAUTH_CLIENT_ID"]
    c.GenericOAuthenticator.client_secret = os.environ["OAUTH_CLIENT_SECRET"]
    # https://<hub>/hub/oauth_callback, registered with the provider
    c.GenericOAuthenticator.oauth_callback_url = os.environ["OAUTH_CALLBACK_URL"]
    c.GenericOAuthenticator.authorize_url = os.environ["OAUTH_AUTHORIZE_URL"]
    c.GenericOAuthenticator.token_url = os.environ["OAUTH_TOKEN_URL"]
    c.GenericOAuthenticator.userdata_url = os.environ["OAUTH_USERDATA_URL"]
    c.GenericOAuthenticator.scope = ["openid", "profile", "email", "groups"]
    c.GenericOAuthenticator.username_claim = "preferred_username"
    c.GenericOAuthenticator.enable_auth_state = True
    c.GenericOAuthenticator.manage_groups = MANAGE_GROUPS
    c.GenericOAuthenticator.auth_state_groups_key = "oauth_user.groups"
    c.GenericOAuthenticator.allowed_groups = {INSTRUCTORS, STUDENTS}
    # An LMS instead (Canvas, Moodle: `pip install jupyterhub-ltiauthenticator`), course roles
    # from the launch (the LTI roles claim) mapped to the two groups by a small subclass:
    #   c.JupyterHub.authenticator_class = "ltiauthenticator.lti13.auth.LTI13Authenticator"
    #   c.LTI13Authenticator.issuer = "https://canvas.instructure.com"
    #   c.LTI13Authenticator.authorize_url = "https://<lms>/api/lti/authorize_redirect"
    #   c.LTI13Authenticator.jwks_endpoint = "https://<lms>/api/lti/security/jwks"
    #   c.LTI13Authenticator.client_id = ["<client id of the LTI developer key>"]
    #   c.LTI13Authenticator.username_key = "email"
else:
    raise ValueError(f"COURSE_HUB_AUTH must be 'dummy' or 'oauth', got {AUTH!r}")

# --- groups and roles --------------------------------------------------------------------------

if not MANAGE_GROUPS:
    # With an authenticator that manages groups, the identity provider owns membership and
    # JupyterHub refuses load_groups. Loading only ever adds members; remove through the API.
    c.JupyterHub.load_groups = {
        INSTRUCTORS: {"users": env_list("COURSE_INSTRUCTORS")},
        STUDENTS: {"users": env_list("COURSE_STUDENTS")},
    }
# What an instructor's server asks the hub for nbgrader's JupyterHubAuthPlugin: the course list
# looks for formgrader services, and students added or removed in the formgrader join or leave
# the students' group.
INSTRUCTOR_SCOPES = ["list:services", "list:groups", f"groups!group={STUDENTS}"]
c.JupyterHub.load_roles = [
    {"name": f"{COURSE_ID}-instructor", "scopes": INSTRUCTOR_SCOPES, "groups": [INSTRUCTORS]},
]
# The API token of every server ($JUPYTERHUB_API_TOKEN): the hub's default (activity, access to
# itself) plus what nbgrader's JupyterHubAuthPlugin reads. Each token gets only the subset its
# user holds, so a student's token can read their own groups and nothing of anyone else.
c.Spawner.server_token_scopes = [
    "users:activity!user",
    "access:servers!server",
    "read:users:name!user",
    "read:users:groups!user",
    *INSTRUCTOR_SCOPES,
]

services: list[dict] = []
if os.environ.get("COURSE_HUB_ADMIN_TOKEN"):
    # a token for scripts: create users, put them in groups, start and stop servers
    services.append({"name": "course-admin", "api_token": os.environ["COURSE_HUB_ADMIN_TOKEN"]})
    c.JupyterHub.load_roles.append({
        "name": "course-admin",
        "scopes": ["admin:users", "admin:groups", "admin:servers", "list:services"],
        "services": ["course-admin"],
    })

# Idle culler: stops servers nobody used for COURSE_HUB_CULL_IDLE seconds, so a class that walks
# away frees its memory (`pip install jupyterhub-idle-culler`; Zero to JupyterHub runs it by
# default, `cull:` in its values). A server's own kernels can be culled sooner with
# --MappingKernelManager.cull_idle_timeout in c.Spawner.args.
CULL_IDLE = int(os.environ.get("COURSE_HUB_CULL_IDLE", "3600"))
if CULL_IDLE and importlib.util.find_spec("jupyterhub_idle_culler"):
    services.append({
        "name": "idle-culler",
        "command": [sys.executable, "-m", "jupyterhub_idle_culler", f"--timeout={CULL_IDLE}"],
    })
    c.JupyterHub.load_roles.append({
        "name": "idle-culler",
        "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
        "services": ["idle-culler"],
    })
c.JupyterHub.services = services

# --- single-user servers -----------------------------------------------------------------------

# The course's own environment serves every user: nbgrader's extensions, course_lib, the kernel.
c.Spawner.cmd = [str(VENV_BIN / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 120  # a cold server with JupyterLab on a busy 2-core machine
c.Spawner.http_timeout = 60
c.Spawner.environment = {
    "NBGRADER_COURSE_ID": COURSE_ID,
    "NBGRADER_EXCHANGE": EXCHANGE,
    "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "/usr/bin:/bin")]),
}

if SPAWNER == "simple":
    # Testing only: every server runs as the hub's own user, in a home per user under HOMES.
    c.JupyterHub.spawner_class = "simple"
    homes = Path(os.environ.get("COURSE_HUB_HOMES", STATE / "home")).resolve()
    c.SimpleLocalProcessSpawner.home_dir_template = str(homes / "{username}")
    if os.geteuid() == 0:
        c.Spawner.args = ["--allow-root"]  # a root container or CI machine
    # Every server runs as the same OS user, so nbgrader's check that a submission's files belong
    # to the student who submitted it can only warn; it is off (as in containers, all `jovyan`).
    c.Spawner.environment["NBGRADER_CHECK_OWNER"] = "0"
elif SPAWNER == "local":
    c.JupyterHub.spawner_class = "localprocess"  # system users; the hub runs as root
else:
    raise ValueError(f"COURSE_HUB_SPAWNER must be 'simple' or 'local', got {SPAWNER!r}")

# Resource limits. Enforced by KubeSpawner (Kubernetes limits), DockerSpawner (docker --memory,
# --cpus) and SystemdSpawner (cgroups MemoryMax, CPUQuota); LocalProcessSpawner and the simple
# spawner only pass them to the server as MEM_LIMIT / CPU_LIMIT (jupyter-resource-usage shows
# them) and enforce nothing. Instructors get more: autograding a class runs its kernels in their
# server, one notebook at a time (nbgrader_config.py bounds each cell at Execute.timeout).
c.Spawner.mem_limit = os.environ.get("COURSE_HUB_MEM_LIMIT", "2G")
c.Spawner.cpu_limit = float(os.environ.get("COURSE_HUB_CPU_LIMIT", "1"))
INSTRUCTOR_MEM = os.environ.get("COURSE_HUB_INSTRUCTOR_MEM_LIMIT", "4G")
INSTRUCTOR_CPU = float(os.environ.get("COURSE_HUB_INSTRUCTOR_CPU_LIMIT", "2"))
c.JupyterHub.concurrent_spawn_limit = 20  # a class logging in at 9:00 must not stampede the hub

COURSE_SOURCE = Path(os.environ.get("COURSE_SOURCE", REPO)).resolve()


def course_pre_spawn_hook(spawner) -> None:
    """Give the server its course role: nbgrader configuration, extensions and limits.

    Instructors (group formgrade-<course>) get the formgrader, the course list and the assignment
    list, their course folder at ~/<course id>, and the instructor limits; students (group
    nbgrader-<course>) get the assignment list and validation only. Anyone else is refused with a
    message saying why, instead of a server that cannot see the course.
    """
    groups = {g.name for g in spawner.user.groups}
    if INSTRUCTORS in groups:
        role = "instructor"
    elif STUDENTS in groups:
        role = "student"
    else:
        raise web.HTTPError(
            403, f"{spawner.user.name} is in neither {INSTRUCTORS} nor {STUDENTS}: "
                 f"ask an instructor to add you to the course")
    spawner.environment = {
        **spawner.environment,
        "COURSE_ROLE": role,
        # the role's folder first (extensions), then the shared nbgrader_config.py
        "JUPYTER_CONFIG_PATH": os.pathsep.join([str(SINGLEUSER / role), str(SINGLEUSER)]),
    }
    if role == "instructor":
        spawner.mem_limit = INSTRUCTOR_MEM
        spawner.cpu_limit = INSTRUCTOR_CPU
        if SPAWNER == "simple":
            # The formgrader needs the course folder inside the server's root (the home).
            home = Path(spawner.home_dir)
            home.mkdir(parents=True, exist_ok=True)
            course = home / COURSE_ID
            if not course.exists() and not course.is_symlink():
                course.symlink_to(COURSE_SOURCE, target_is_directory=True)


c.Spawner.pre_spawn_hook = course_pre_spawn_hook
