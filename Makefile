# The two commands a newcomer needs are `make serve` and `make test` (see README.md).
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: serve test install-dev system-deps lint bench

serve:
	$(PYTHON) -m pip install -q -e .
	smsclab serve

# tshark is the independent decoder the tests check our bytes against.
system-deps:
	@command -v tshark >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tshark >/dev/null; }

install-dev: system-deps
	$(PYTHON) -m pip install -q -e '.[dev,pcap]'

lint:
	$(PYTHON) -m ruff check .
	$(PYTHON) -m mypy

test: install-dev lint
	$(PYTHON) -m pytest

bench: install-dev
	$(PYTHON) bench/codec.py
