# tillpi — the two commands a fresh machine needs are `make demo` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
DATA   ?= ../shared/data/barcodes-dev
PYTEST_ARGS ?=

.PHONY: bootstrap test demo bench bench-pricing bench-bus bench-scanner bench-kiosk bench-alarms bench-backoffice bench-hq

bootstrap:
	@bash tools/bootstrap.sh

## The full suite: real broker, real databases, real window and real browser included.
test: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS)

## A whole shop on embedded defaults (DEMO_DURATION=seconds to stop by itself).
demo: bootstrap
	$(PY) -m tillpi_cli demo $(if $(DEMO_DURATION),--duration $(DEMO_DURATION))

## Benchmarks: readable figures, then one JSON line.
bench-pricing: bootstrap
	$(PY) tests/bench/bench_pricing.py

bench-bus: bootstrap
	$(PY) tests/bench/bench_bus.py

bench-scanner: bootstrap
	$(PY) tests/bench/bench_scanner.py --data $(DATA)

bench-kiosk: bootstrap
	$(PY) tests/bench/bench_kiosk.py

bench-backoffice: bootstrap
	$(PY) tests/bench/bench_backoffice.py

bench-hq: bootstrap
	$(PY) tests/bench/bench_hq.py

bench-alarms: bootstrap
	$(PY) tests/bench/bench_alarms.py
