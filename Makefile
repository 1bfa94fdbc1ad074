# netsot — two commands set up everything: `make demo` and `make test`.
VENV    ?= .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.netsot-installed
SYSSTAMP := $(VENV)/.netsot-system

.PHONY: setup system-deps test demo bench lint screenshots clean

setup: $(STAMP) $(SYSSTAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	@echo "==> installing netsot and its test tools into $(VENV)"
	@$(PY) -m pip install -q --disable-pip-version-check -e '.[test]'
	@touch $@

# System packages the tests and the lab use: OpenSSH client (scrapli's bin transport),
# dnsmasq (the simulated router's DNS), PostgreSQL (the postgres state backend), Chromium (the
# status page's browser tests drive /usr/bin/chromium through Playwright; never `playwright install`)
# and systemd (the tests check examples/systemd/ with systemd-analyze verify).
# The live NIPAP tests start the real nipapd (../shared/tools/nipapd): PostgreSQL 15 with ip4r, and
# libpq-dev, gcc and python3-dev to build its Python dependencies (psycopg2) into a venv.
$(SYSSTAMP):
	@missing=""; \
	command -v ssh >/dev/null 2>&1 || missing="$$missing openssh-client"; \
	command -v dnsmasq >/dev/null 2>&1 || missing="$$missing dnsmasq-base"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	for p in postgresql-15 postgresql-15-ip4r libpq-dev gcc python3-dev python3-venv; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; \
	done; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $@

# the live NIPAP tests' real nipapd: its venv is built here, without pytest's per-test time limit
test: setup
	-@$(PY) -m tests.livenipapd prepare
	@$(PY) -m pytest -q

demo: setup
	@$(PY) -m engine demo

bench: setup
	@$(PY) -m bench

lint: setup
	@$(VENV)/bin/ruff check core engine providers state schemas bench tests

# refresh the README's pictures of the status page (the browser tests take them)
screenshots: setup
	@NETSOT_SCREENSHOTS=$(CURDIR)/docs $(PY) -m pytest -q tests/web/test_status_page.py tests/web/test_page_guidance.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
