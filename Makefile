# The two commands: `make demo` and `make test`. Both create .venv and install on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint install services browser mailserver monitoring clean catalogs constraints

CATALOG_PO := $(wildcard scheduler/i18n/catalogs/*/LC_MESSAGES/*.po)
CATALOG_MO := $(CATALOG_PO:.po=.mo)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "exsched needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

# Newest versions within pyproject.toml's bounds, resolved in a throw-away venv; then `make test`.
constraints:
	rm -rf var/lock-venv && $(PYTHON) -m venv var/lock-venv
	var/lock-venv/bin/python -m pip install --quiet -e '.[test]'
	{ sed -n '/^#/p' constraints.txt; var/lock-venv/bin/python -m pip freeze --exclude-editable; } > constraints.new
	mv constraints.new constraints.txt && rm -rf var/lock-venv

install: $(STAMP) catalogs

# The message catalogs are compiled at install; again whenever a .po file changes.
catalogs: $(CATALOG_MO)

%.mo: %.po $(STAMP)
	$(BIN)/python -m scheduler.i18n.compile

demo: $(STAMP) catalogs
	$(BIN)/exsched demo

services:
	bash deploy/dev-services.sh

browser:
	bash deploy/dev-browser.sh

mailserver:
	bash deploy/dev-dovecot.sh

monitoring:
	bash deploy/dev-prometheus.sh

test: $(STAMP) catalogs services browser mailserver monitoring lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check schemas scheduler workers tests bench
	$(BIN)/mypy schemas scheduler workers
	$(BIN)/lint-imports

clean:
	rm -rf $(VENV) var .pytest_cache test-artifacts $(CATALOG_MO)
