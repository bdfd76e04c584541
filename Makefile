# The two commands of the README: `make demo` (everything, live) and `make test` (what CI runs).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: install system-deps demo test bench stack-up stack-down

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test]"
	touch $@

install: $(BIN)/.installed

system-deps:
	bash scripts/system-deps.sh

demo: install system-deps
	$(BIN)/relstream demo

test: install system-deps
	$(BIN)/relstream stack up
	$(BIN)/pytest -q -p no:cacheprovider

bench: install
	$(BIN)/relstream stack up
	$(BIN)/python -m bench.run

stack-up: install
	$(BIN)/relstream stack up

stack-down: install
	$(BIN)/relstream stack down
