# bridgeconf — the two commands of the README:
#   make run    create .venv if needed, install, start the server with the demo conference
#   make test   install what the tests need (Python and Debian packages), run the whole suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages: fonts with Vietnamese diacritics and pango for the PDF minutes, poppler-utils
# (pdftotext reads a PDF's text back ~20x faster than pypdf when verifying; pdfsig in the tests)
# (run and test); a real redis-server and Chromium for the tests.
RUN_DEBS  := fonts-dejavu-core fonts-liberation2 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils
TEST_DEBS := $(RUN_DEBS) redis-server chromium

.PHONY: run test install compiled debs-run debs-test bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "bridgeconf needs Python >= 3.11 (set PYTHON=...)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

# The project's own bytecode, compiled ahead (an editable install compiles none, and with
# PYTHONDONTWRITEBYTECODE, as on CI, every server process and test would compile every module
# again: ~0.4 s more per start, in a restart with every page waiting and in every test that
# starts a server process). Up-to-date files are skipped; a source edited since is recompiled
# in memory until the next make.
compiled: $(STAMP)
	@$(BIN)/python -m compileall -q -j 0 server scheduling media client_web bench >/dev/null

# Install the Debian packages that are missing (as root, or through sudo when there is one).
debs-run:
	@$(MAKE) --no-print-directory _debs DEBS="$(RUN_DEBS)"
debs-test:
	@$(MAKE) --no-print-directory _debs DEBS="$(TEST_DEBS)"
_debs:
	@missing=$$(for p in $(DEBS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

run: $(STAMP) compiled debs-run
	$(BIN)/bridgeconf serve --demo

test: $(STAMP) compiled debs-test
	$(BIN)/python -m pytest

bench: $(STAMP) compiled debs-test
	$(BIN)/python bench/signaling.py
	$(BIN)/python bench/media.py
	$(BIN)/python bench/documents.py

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
