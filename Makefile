# The two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/civicloop
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint test-sqlite test-postgres bench clean

setup: $(VENV)/.installed civicloop/locale/en/LC_MESSAGES/django.mo

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

civicloop/locale/en/LC_MESSAGES/django.mo: civicloop/locale/en/LC_MESSAGES/django.po $(VENV)/.installed
	cd civicloop && ../$(BIN)/python ../manage.py compilemessages -v0

run: setup
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/python manage.py serve

lint: setup
	$(BIN)/ruff check civicloop tests bench
	$(BIN)/ruff format --check civicloop tests bench
	$(BIN)/mypy civicloop
	$(BIN)/lint-imports

test-sqlite: setup
	env -u DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: setup
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test: lint test-sqlite test-postgres
	$(BIN)/python manage.py check --deploy --settings=civicloop.config.production_check --fail-level WARNING

bench: setup
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/python bench/cases.py

clean:
	rm -rf $(VENV) staticfiles var/*.sqlite3 test-artifacts
