# Two entry points (see README): `make demo` and `make test`. Both set everything up on a fresh
# Debian machine with Python 3.11: system packages, a virtual environment, the package and its tools
# (and, for the tests, a PostgreSQL server).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.moclab-installed
DEMO_OUT ?= demo-output

.PHONY: setup demo test lint format bench validation clean

setup: $(STAMP)

$(STAMP): pyproject.toml scripts/install-system-deps.sh
	bash scripts/install-system-deps.sh
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/moclab demo -o $(DEMO_OUT) --force

# The web tests run on SQLite and on a real PostgreSQL server, which scripts/postgres.sh installs (Debian's
# package, when missing) and starts on 127.0.0.1:54329.
TEST_POSTGRES_URL := postgres://moclab:moclab@127.0.0.1:54329/moclab

# Two pytest-xdist workers share the test files, one file per worker at a time (fixtures of a module stay in
# one process), for the machine's two cores; NumPy in each worker keeps to one OpenBLAS thread, so the two
# workers do not fight over the cores.
test: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	MOCLAB_PG_PORT=54329 bash scripts/postgres.sh
	OPENBLAS_NUM_THREADS=1 MOCLAB_TEST_POSTGRES_URL=$(TEST_POSTGRES_URL) $(BIN)/pytest -q -n 2 --dist loadfile

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks compare moclab with the libraries a user would otherwise use (the `bench` extra installs them).
# Run them on an idle machine: a second busy core slows OpenBLAS-threaded NumPy and the ratios mean nothing.
bench: setup
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

# Known-truth validation of the evidence scorecard (validation/): many replications of worlds whose mechanism
# is known, the share of each verdict per criterion against the truth, and the table of docs/validation.md.
validation: setup
	$(BIN)/python -m validation.run --reps 200 --n-boot 500 --jobs 2 --out validation-results --write-docs docs/validation.md

clean:
	rm -rf $(VENV) $(DEMO_OUT) validation-results .pytest_cache .ruff_cache build src/*.egg-info
