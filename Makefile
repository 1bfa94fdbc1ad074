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
$(SYSSTAMP):
	@missing=""; \
	command -v ssh >/dev/null 2>&1 || missing="$$missing openssh-client"; \
	command -v dnsmasq >/dev/null 2>&1 || missing="$$missing dnsmasq-base"; \
	{ command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; } || missing="$$missing postgresql"; \
	test -x /usr/bin/chromium || missing="$$missing chromium"; \
	command -v systemd-analyze >/dev/null 2>&1 || missing="$$missing systemd"; \
	if [ -n "$$missing" ]; then \
	  echo "==> installing system packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq >/dev/null && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $@

test: setup
	@$(PY) -m pytest -q

demo: setup
	@$(PY) -m engine demo

bench: setup
	@$(PY) -m bench

lint: setup
	@$(VENV)/bin/ruff check core engine providers state schemas bench tests

# refresh the README's pictures of the status page (the browser tests take them)
screenshots: setup
	@NETSOT_SCREENSHOTS=$(CURDIR)/docs $(PY) -m pytest -q tests/web/test_status_page.py

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
