# Two entry points, each creating what it needs on a fresh machine:
#   make demo   the pipeline at demo scale on a project-local AiiDA profile (SQLite + built-in broker)
#   make test   lint, docs and the test suite on SQLite + ZeroMQ, then again on PostgreSQL + RabbitMQ
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export LD_LIBRARY_PATH := $(CURDIR)/$(VENV)/lib:$(LD_LIBRARY_PATH)
export OMP_NUM_THREADS ?= 1
export MPLBACKEND := Agg

.PHONY: demo test env

env: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	$(PY) -m aiida_glassceramic.potentials.lammps_plugin build || \
		echo 'WARNING: pair_style glassceramic not built (see above); the fix external driver glassceramic-lmp still works'
	touch $@

demo: $(VENV)/.installed
	AIIDA_PATH=$(CURDIR)/.aiida $(VENV)/bin/aiida-glassceramic demo

# the second profile reruns the tests of storage, queries, parsing, the daemon and the remote computer; the MD and
# reference-data work chains run in-process there as here and are left to the first profile
SECOND_PROFILE_TESTS := tests/data tests/calculations tests/parsers tests/daemon tests/remote tests/workflows

test: $(VENV)/.installed
	$(VENV)/bin/ruff check aiida_glassceramic tests benchmarks examples
	bash tests/install_system_packages.sh
	@echo '=== tests without an AiiDA profile, in two processes ==='
	$(PY) -m pytest -m 'not aiida' -n 2 --dist loadfile --durations=15
	@echo '=== tests on the AiiDA profile: SQLite storage + ZeroMQ broker ==='
	$(PY) -m pytest --aiida-backend=sqlite -m 'aiida and not demo' --durations=25
	@if $(PY) -m tests.services; then \
		echo '=== storage, daemon and remote tests again on the profile: PostgreSQL storage + RabbitMQ broker ==='; \
		$(PY) -m pytest --aiida-backend=psql -m 'aiida and not demo' $(SECOND_PROFILE_TESTS) --durations=25; \
	elif [ -n "$$CI" ]; then \
		echo 'PostgreSQL (127.0.0.1:5432) and RabbitMQ (127.0.0.1:5672) must answer in CI'; exit 1; \
	else \
		echo '=== PostgreSQL + RabbitMQ profile skipped: the services do not answer ==='; \
	fi
