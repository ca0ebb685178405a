# Dienynas: `make run` serves the demo municipality, `make test` runs the whole suite.
# Nothing but Python 3.11+ is needed: PostgreSQL and Redis are embedded when DATABASE_URL and
# REDIS_URL are not given (see README).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format translations extract-messages browser e2e bench clean stop

setup: $(STAMP) translations

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d translations

extract-messages: $(STAMP)
	$(BIN)/pybabel extract -F translations/babel.cfg -k lazy_gettext -k _l -k ngettext:1,2 \
		--no-location --sort-output --omit-header -o translations/messages.pot .
	$(BIN)/pybabel update -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete

browser:
	@scripts/install-browser.sh

run: setup
	$(BIN)/dienynas db upgrade
	$(BIN)/dienynas demo seed --if-empty
	$(BIN)/dienynas serve --insecure-cookies

test: setup browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: setup
	$(BIN)/python bench/provision.py --schools 50

stop: $(STAMP)
	$(BIN)/dienynas services stop

clean:
	rm -rf $(VENV) build *.egg-info
