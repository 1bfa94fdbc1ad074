# netsot — two commands set up everything: `make demo` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.netsot-installed
SYSSTAMP := $(VENV)/.netsot-system
SYSSTAMP_DEMO := $(VENV)/.netsot-system-demo

.PHONY: setup setup-demo system-deps test demo bench lint screenshots clean

# netsot's own modules are byte-compiled as pip does for an installed package: an editable install
# leaves that to the first import, which never writes one where PYTHONDONTWRITEBYTECODE is set (as on
# CI), so every process (each CLI run, each bench scenario) compiled ~150 modules again
COMPILE := $(PY) -m compileall -q -j 0 core engine providers state bench tools

setup: $(SYSSTAMP) $(STAMP)
	@$(COMPILE)

setup-demo: $(SYSSTAMP_DEMO) $(STAMP)
	@$(COMPILE)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "==> installing netsot and its test tools into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# System packages, installed by tools/sysdeps.py (only what is missing, apt's output shown, a dpkg
# lock held by another process waited for): `make demo` gets what the demo uses — python3-venv, the
# OpenSSH client (scrapli's bin transport), dnsmasq (the simulated router's DNS); `make test` adds
# what the tests use — PostgreSQL (the postgres state backend; PostgreSQL 15 with ip4r, libpq-dev,
# gcc and python3-dev for the real nipapd of the live NIPAP tests, ../shared/tools/nipapd) and
# Chromium (the status page's browser tests drive /usr/bin/chromium; never `playwright install`) and
# systemd (the tests check examples/systemd/ with systemd-analyze verify).
$(SYSSTAMP_DEMO):
	@python3 tools/sysdeps.py demo
	@mkdir -p $(VENV) && touch $@

$(SYSSTAMP):
	@python3 tools/sysdeps.py test
	@mkdir -p $(VENV) && touch $@ $(SYSSTAMP_DEMO)

# pytest prints one line per test file with its share of the run ([ 42%]); the suite takes 8-21 min.
# the live NIPAP tests' real nipapd: its venv is built here, without pytest's per-test time limit
test: setup
	-@$(PY) -m tests.livenipapd prepare
	@$(PY) -m pytest

# FRESH=1 deletes a lab an earlier `make demo` left in .netsot-lab/ and starts from scratch
demo: setup-demo
	@$(PY) -m engine demo $(if $(FRESH),--fresh)

bench: setup
	@$(PY) -m bench $(if $(ANSIBLE),--ansible)

lint: setup
	@$(VENV)/bin/ruff check core engine providers state schemas bench tests tools

# refresh the README's pictures of the status page (the browser tests take them)
screenshots: setup
	@NETSOT_SCREENSHOTS=$(CURDIR)/docs $(PY) -m pytest -q tests/web/test_status_page.py tests/web/test_page_guidance.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
