# Every target sets itself up: a fresh machine needs only python3.11, npm and make.
SHELL := /bin/bash
PY     := .venv/bin/python
VENV   := .venv/.installed
MATHJAX := assets/mathjax/tex-chtml.js
ASSIGNMENT ?=

.PHONY: help setup postgres hub book serve test lint student release collect grade feedback export clean

help:
	@echo "make book     build the site into _build/html (executes every lesson)"
	@echo "make test     run every test: library, notebooks (nbval), grading, drift, book"
	@echo "make serve    serve _build/html on http://localhost:8000"
	@echo "make student  regenerate the student notebooks in chapters/ from solutions/"
	@echo "make release|collect|grade|feedback|export [ASSIGNMENT=01_sequence_data]  instructor commands"

$(VENV): pyproject.toml constraints.txt
	python3.11 -m venv .venv || python3 -m venv .venv
	$(PY) -m pip install -q --upgrade "pip==25.3"
	$(PY) -m pip install -q -c constraints.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	touch $@

# MathJax 3 from the npm registry, served from the site itself (no CDN at read time).
$(MATHJAX): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf assets/mathjax && mkdir -p assets && cp -r node_modules/mathjax/es5 assets/mathjax
	touch $@

# configurable-http-proxy for the course JupyterHub (deploy/jupyterhub), from npm.
HUBPROXY := deploy/jupyterhub/node_modules/.bin/configurable-http-proxy
$(HUBPROXY): deploy/jupyterhub/package.json deploy/jupyterhub/package-lock.json
	cd deploy/jupyterhub && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# PostgreSQL server binaries: tests/test_tuning.py starts a throwaway server to prove that an
# Optuna study shared by many workers runs on a real RDB (Debian package; root or sudo needed).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
postgres:
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
	  { $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q --no-install-recommends postgresql; }

setup: $(VENV) $(MATHJAX) $(HUBPROXY) postgres

# A local course hub (see deploy/jupyterhub/README.md).
hub: setup
	NBGRADER_EXCHANGE=$${NBGRADER_EXCHANGE:-$(CURDIR)/exchange} .venv/bin/jupyterhub -f deploy/jupyterhub/jupyterhub_config.py

book: setup
	.venv/bin/jupyter-book build . --builder html -W --keep-going
	@echo "site: _build/html/index.html"

serve:
	cd _build/html && python3 -m http.server 8000

# One torch thread per pytest worker (two workers on two cores); the PostgreSQL test must run.
test: setup
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 COURSE_REQUIRE_POSTGRES=1 .venv/bin/pytest -n 2 --dist loadfile -q -ra --durations=25

lint: setup
	.venv/bin/ruff check course_lib tests scripts benchmarks deploy chapters solutions

student: setup
	$(PY) scripts/generate_student.py

release collect grade feedback export: setup
	$(PY) scripts/instructor.py $@ $(ASSIGNMENT)

clean:
	rm -rf _build release submitted autograded feedback gradebook.db reports deploy/jupyterhub/state
