# Fenxiao: `make run` serves the mall, `make test` runs the whole suite.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
WEB_WORKERS ?= 3
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test lint format setup migrate demo bench browser-deps clean

$(UV):
	@echo "Installing uv…"
	@python3 -m pip install --user --quiet uv || python3 -m pip install --quiet --break-system-packages --user uv

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	@touch $@

setup: .venv/.synced

migrate: setup
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo --if-empty

run: demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	@echo "Serving on http://$(HOST):$(PORT)  (backend: /backend/, API docs: /api/docs)"
	@trap 'kill 0' EXIT INT TERM; \
	$(PY) manage.py run_huey --quiet & \
	.venv/bin/gunicorn fenxiao.wsgi:application --bind $(HOST):$(PORT) \
		--workers $(WEB_WORKERS) --access-logfile - --graceful-timeout 10

browser-deps:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Installing Debian's chromium for browser tests…"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; \
	fi

test: setup browser-deps
	$(PY) -m pytest -q

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

bench: setup
	$(PY) manage.py bench

clean:
	rm -rf .venv var test-artifacts
