# make run  — install, convert the bundled model, build the index if stale, serve on 127.0.0.1:7860
# make test — install the same plus the test tools, lint with ruff, run the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test install install-dev lint browser office bench

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

lint: install-dev
	$(VENV)/bin/ruff check .

# Debian's Chromium and CJK fonts for the browser tests (Playwright never downloads a browser here).
browser:
	@if command -v chromium >/dev/null 2>&1 && [ -d /usr/share/fonts/opentype/noto ]; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else echo "browser tests need Debian's chromium and fonts-noto-cjk: sudo apt-get install chromium fonts-noto-cjk"; fi

# LibreOffice headless reads .doc, .wps, .odt and .rtf (app/formats/office.py); without it those
# files are skipped with a reason, everything else works.
office:
	@if command -v soffice >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui >/dev/null; \
	else echo "reading .doc/.wps needs LibreOffice: sudo apt-get install --no-install-recommends libreoffice-writer-nogui"; fi

run: install office
	$(PY) -m app serve

# pytest exits 5 when it collected no test: that is a broken suite, not a green one.
test: install-dev browser office lint
	$(PY) -m pytest -ra; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$status

bench: install-dev
	$(PY) bench/run.py
