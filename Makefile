# Regent's everyday commands: `make demo` to see it run, `make test` for the suite, `make lint` before a push.
# `make test-fast` while working: the suite without browser tests or started processes, on a kept test database.

PYTHON3_11 ?= python3.11
VENV := .venv
PYTHON := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
INSTALLED := $(VENV)/.installed

# The tests' stores; override on the command line, e.g. `make test DATABASE_URL=sqlite:////tmp/regent.sqlite3`.
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/regent
REDIS_URL ?= redis://127.0.0.1:6379/0
# Options for pytest, e.g. `make test PYTEST_ARGS="-k health -x"`.
PYTEST_ARGS ?=
# pytest-xdist workers: one per core (at most 6, the Redis databases tests/support/parallel.py hands out); each has
# its own test database and Redis database. A file's tests stay together on one worker (module fixtures run once).
# `make test TEST_WORKERS=0` runs the suite in one process.
TEST_WORKERS ?= auto
PARALLEL = -n $(TEST_WORKERS) --maxprocesses=6 --dist loadfile

.PHONY: venv demo up test test-fast lint lock bench

venv: $(INSTALLED)

$(PYTHON):
	$(PYTHON3_11) -m venv $(VENV)

# Reinstalls only when the lock or the project's metadata changed.
$(INSTALLED): requirements.lock pyproject.toml | $(PYTHON)
	$(PIP) install -q -r requirements.lock
	$(PIP) install -q -e . --no-deps
	touch $@

# The zero-configuration demo (SQLite, in-process tasks), with DEBUG off so it shows Regent's own error pages.
demo: venv
	$(LOOPBACK_ENV) $(PYTHON) manage.py demo

# A production-like stack on this machine (Procfile, run by honcho): PostgreSQL and Redis, WEB_CONCURRENCY
# granian WSGI processes for HTTP on 127.0.0.1:8000, uvicorn for the live stream's sockets on 127.0.0.1:8001
# (pages open them there: STREAM_PORT), Celery workers and beat, the audit sequencer (queued sequencing is
# PostgreSQL's default).
# DEBUG off, as in production, on plain HTTP on loopback: the HTTPS-only protections are off here (a real
# deployment terminates TLS in front, docs/deployment.md). The secret key is made once and kept in .secret-key.
LOOPBACK_ENV = DEBUG=false ALLOWED_HOSTS=127.0.0.1,localhost SECURE_SSL_REDIRECT=false SESSION_COOKIE_SECURE=false \
	CSRF_COOKIE_SECURE=false SECURE_HSTS_SECONDS=0 \
	SECRET_KEY="$${SECRET_KEY:-$$(cat .secret-key 2>/dev/null || $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' | tee .secret-key)}"
UP_ENV = PATH="$(CURDIR)/$(VENV)/bin:$$PATH" DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' $(LOOPBACK_ENV) \
	STREAM_PORT=8001 CSRF_TRUSTED_ORIGINS=http://127.0.0.1:8000,http://localhost:8000 \
	PROMETHEUS_MULTIPROC_DIR="$(CURDIR)/.prometheus"

up: venv
	.ci/services
	psql -h 127.0.0.1 -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$(notdir $(DATABASE_URL))'" \
		| grep -q 1 || createdb -h 127.0.0.1 -U postgres '$(notdir $(DATABASE_URL))'
	$(UP_ENV) $(PYTHON) manage.py migrate --noinput -v0
	$(UP_ENV) $(PYTHON) manage.py collectstatic --noinput -v0
	rm -rf .prometheus && mkdir .prometheus  # each process's /metrics figures; emptied at every start
	$(UP_ENV) $(VENV)/bin/honcho -f Procfile start

# On PostgreSQL the suite runs with queued audit sequencing, as production does: a sequencer thread beside every
# test whose writes commit (tests/fixtures/audit.py).
test: venv
	.ci/services
	DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' $(VENV)/bin/pytest $(PARALLEL) $(PYTEST_ARGS)

# The inner loop: no Chromium and no uvicorn or Celery processes (markers browser and processes), and the
# test database kept from the last run (--reuse-db; migrations still apply). PostgreSQL and Redis must be
# up: `.ci/services`, not run here because it would install Chromium, which these tests never start.
test-fast: venv
	DATABASE_URL='$(DATABASE_URL)' REDIS_URL='$(REDIS_URL)' $(VENV)/bin/pytest $(PARALLEL) --reuse-db -m "not browser and not processes" $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(PYTHON) manage.py makemigrations --check --dry-run
	$(PYTHON) manage.py check
	env -u DEBUG SECRET_KEY="$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		ALLOWED_HOSTS=regent.example.com $(PYTHON) manage.py check --deploy --fail-level WARNING

lock: | $(PYTHON)
	$(PIP) install uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --python-version 3.11 -o requirements.lock

# Benchmarks (PostgreSQL and Redis must be up: `.ci/services`); each prints its table and ratios.
bench: venv
	.ci/services
	$(PYTHON) bench/policy_eval.py
	$(PYTHON) bench/live_stream.py
	$(PYTHON) bench/orchestration.py
