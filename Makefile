# Fenxiao: `make run` serves the mall, `make test` runs the whole suite.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Web processes: granian's WSGI workers, one process per core (at least 2, at most 8), each
# serving WEB_THREADS requests at a time (granian measured better than gunicorn's threaded
# workers; 2 × 6 bought 8 % more purchases/s than 3 × 4 on 2 cores, pages alike: README,
# Benchmarks). Threads overlap what views wait for (the database, gateways); fewer processes
# keep memory down (each thread keeps a database connection for DB_CONN_MAX_AGE seconds).
# Override either, e.g. WEB_WORKERS=4 make run.
CORES := $(shell nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
WEB_WORKERS ?= $(shell w=$(CORES); [ $$w -lt 2 ] && w=2; [ $$w -gt 8 ] && w=8; echo $$w)
WEB_THREADS ?= 6
CHROMIUM ?= /usr/bin/chromium
# Where a browser reaches the server: a wildcard bind address is reached on loopback.
PUBLIC_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))

.PHONY: run test lint format setup migrate static demo reset-demo bench browser-deps fonts messages clean

# The demo targets run in demo mode (sandbox payments, demo accounts) at the address served.
run demo reset-demo bench messages: export FENXIAO_DEMO ?= 1
run demo reset-demo: export SITE_URL ?= http://$(PUBLIC_HOST):$(PORT)

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

# Empty the database (every product, order and account) and load the demo shop again.
reset-demo: migrate
	$(PY) manage.py load_demo --reset

static: setup
	$(PY) manage.py collectstatic --noinput --verbosity 0

# Share posters need a CJK font; install Debian's WenQuanYi Micro Hei when none is present.
fonts:
	@if ! ls /usr/share/fonts/truetype/wqy/*.ttc /usr/share/fonts/opentype/noto/NotoSansCJK*.ttc 2>/dev/null | grep -q .; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "Installing a Chinese font for share posters…"; \
			(apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 || \
			 (apt-get update -qq && apt-get install -y -qq fonts-wqy-microhei >/dev/null)) || true; \
		else echo "Note: no Chinese font found; install fonts-wqy-microhei for share posters."; fi; \
	fi

# The web server and the task consumer run side by side. Ctrl-C (or a TERM sent to make)
# stops the web server gracefully, then the consumer, which finishes its running tasks.
# Each runs in a session of its own, so it gets exactly one stop signal, from here (a
# granian worker that also got the terminal's Ctrl-C would not stop until killed).
run: demo static fonts
	@echo "Serving on $$SITE_URL  (backend: $$SITE_URL/backend/, API docs: $$SITE_URL/api/docs; Ctrl-C stops)"
	@interrupted=; web=; huey=; \
	trap 'interrupted=1; kill -TERM $$web 2>/dev/null' INT TERM; \
	$$(command -v setsid) $(PY) manage.py run_huey --quiet & huey=$$!; \
	$$(command -v setsid) .venv/bin/granian --interface wsgi --host $(HOST) --port $(PORT) \
		--workers $(WEB_WORKERS) --blocking-threads $(WEB_THREADS) \
		--access-log --workers-kill-timeout 10 fenxiao.wsgi:application & web=$$!; \
	wait $$web; status=$$?; \
	while kill -0 $$web 2>/dev/null; do wait $$web; status=$$?; done; \
	kill -INT $$huey 2>/dev/null; \
	while kill -0 $$huey 2>/dev/null; do wait $$huey; done; \
	if [ -n "$$interrupted" ]; then echo "Stopped."; else exit $$status; fi

browser-deps:
	@if [ ! -x "$(CHROMIUM)" ] || ! ls /usr/share/fonts/truetype/wqy/*.ttc >/dev/null 2>&1; then \
		echo "Installing Debian's chromium and a Chinese font for browser tests…"; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

test: setup browser-deps
	$(PY) -m pytest -q

lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: setup
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

# The micro part (in process, rolled back), then the load part: pgbench, the mall served on a
# fresh PostgreSQL database and driven over HTTP, settlement at volume (README, "Benchmarks").
# PostgreSQL from BENCH_DATABASE_URL or DATABASE_URL, else postgres@127.0.0.1:5432.
# E.g. make bench BENCH_ARGS="--duration 10 --settle-sizes 2000,5000"
BENCH_ARGS ?=
bench: migrate static
	$(PY) manage.py bench
	$(PY) manage.py bench_reports
	$(PY) manage.py bench_load --workers $(WEB_WORKERS) --threads $(WEB_THREADS) $(BENCH_ARGS)

# The UI's strings are written in Chinese, the default language; each app keeps their English
# in fenxiao/<app>/locale/en (strings outside any app: fenxiao/locale/en). After changing a
# translated string: `make messages`, translate what it left empty, `make messages` again to
# compile (the .mo files are committed, so a fresh machine needs no gettext tools).
MESSAGE_IGNORE := -i '.venv' -i 'var' -i 'test-artifacts' -i '*/tests/*' -i '*/migrations/*'
messages: setup
	$(PY) manage.py makemessages -l en --no-obsolete --add-location=file $(MESSAGE_IGNORE)
	$(PY) manage.py makemessages -d djangojs -l en --no-obsolete --add-location=file $(MESSAGE_IGNORE)
	sed -i '/^"POT-Creation-Date: /d' $$(find fenxiao -path '*/locale/en/LC_MESSAGES/*.po')
	$(PY) manage.py compilemessages -l en -l zh_Hans $(MESSAGE_IGNORE)

clean:
	rm -rf .venv var test-artifacts
