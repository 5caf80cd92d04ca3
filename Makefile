# trustml: two commands do everything; each creates and fills .venv first if needed.
#   make lab      open the course in JupyterLab      (make course: run every episode headless into build/)
#   make test     run the test suite                 (what CI runs)

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# CONSTRAINTS=constraints.txt installs the versions the course was last run with (default: the newest allowed)
CONSTRAINTS ?=
# JupyterLab settings the course ships (lab-settings/overrides.json: no news pop-up, no update check)
LAB_SETTINGS := $(CURDIR)/lab-settings
# OpenMP threads wait without spinning: on a busy 2-core laptop spinning made small scikit-learn work 5x slower
export OMP_WAIT_POLICY ?= PASSIVE

.PHONY: lab course test check clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else "trustml needs Python 3.10 or newer; set PYTHON=python3.11 (for example)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -e '.[dev]' $(if $(CONSTRAINTS),-c $(CONSTRAINTS))
	@touch $@

lab: $(STAMP)
	$(BIN)/trustml check || true
	$(BIN)/jupyter lab --ServerApp.root_dir=episodes --LabApp.app_settings_dir="$(LAB_SETTINGS)" $(LAB_ARGS)

course: $(STAMP)
	$(BIN)/trustml run --output build $(if $(FAST),--fast)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

check: $(STAMP)
	$(BIN)/trustml check

clean:
	rm -rf build .pytest_cache
