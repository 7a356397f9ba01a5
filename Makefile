# Self-documenting Makefile: `make help` lists every target with the text after its `##`.
# Two commands are all a new user needs: `make run` (the main job on the bundled sample) and `make test`.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SAMPLE := data/sample

.DEFAULT_GOAL := help
.PHONY: help install run sample test test-fast notebooks lint format lock clean bench screenshot benchmark-model evaluate-worlds impact-proof

help: ## List every target
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,spark]"
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install the pinned dependencies (constraints.txt)

sample: $(STAMP) ## Regenerate the synthetic sample exports in data/sample (deterministic, seed 20241)
	$(BIN)/mentor sample --out $(SAMPLE)

run: $(STAMP) ## Run the main job on the bundled sample data (generates it first if absent); shortlists go to out/
	@if ! ls -d $(SAMPLE)/[0-9]* >/dev/null 2>&1; then $(BIN)/mentor sample --out $(SAMPLE); fi
	$(BIN)/mentor run --exports $(SAMPLE) --db data/warehouse.duckdb --out out

# Two test workers on two cores: each worker's numerical libraries single-threaded, or their threads fight over the
# cores (make test 9 min 12 s with them, 7 min 36 s without; a mentor fit test 176 s against 60 s).
ONE_THREAD = OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

test: $(STAMP) ## Run the whole test suite (dependency check, unit, property, integration, lint and type checks)
	$(BIN)/deptry .
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 --dist loadscope

test-fast: $(STAMP) ## The tests not marked slow, for the edit loop (make test runs them all)
	$(BIN)/deptry .
	$(ONE_THREAD) $(BIN)/python -m pytest -n 2 -m "not slow"

notebooks: $(STAMP) ## Open JupyterLab on notebooks/ (installs the notebooks extra first)
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev,notebooks]"
	$(BIN)/jupyter lab --notebook-dir=notebooks

lint: $(STAMP) ## ruff format check, ruff lint and mypy
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/mypy

format: $(STAMP) ## Format and auto-fix with ruff
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

SIZES ?= 5000,20000,50000
REPEAT ?= 3
ENGINE ?= duckdb

screenshot: ## Render out/report.html in headless Chromium (Debian package chromium) to out/report.png
	@command -v chromium >/dev/null || { echo "install Chromium first: sudo apt-get install chromium"; exit 2; }
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1300,3400 \
		--screenshot=$(CURDIR)/out/report.png file://$(CURDIR)/out/report.html
	@echo "screenshot: out/report.png"

bench: $(STAMP) ## Time the nightly run against DuckDB alone at 5k/20k/50k pupils (SIZES=..., REPEAT=..., ENGINE=spark adds Spark local)
	$(BIN)/python -m pipeline.bench --sizes $(SIZES) --repeat $(REPEAT) --engine $(ENGINE)

WORLD_SEEDS ?= 11 12 13 14 15
SAMPLE_SEEDS ?= 11 12 13
CARDS ?= models/scorecard-v1.yaml models/scorecard-v2.yaml models/scorecard-v3.yaml models/scorecard-v4.yaml
JOBS ?= 4

evaluate-worlds: $(STAMP) ## Slow (minutes a seed): the cards against known futures in both worlds, per school (docs/evaluation.md)
	$(BIN)/mentor evaluate $(foreach s,$(WORLD_SEEDS),--world $(s)) $(foreach s,$(SAMPLE_SEEDS),--sample-seed $(s)) \
		$(foreach c,$(CARDS),--card $(c)) --jobs $(JOBS) --out out/worlds

BENCHMARK_ARGS ?=

benchmark-model: $(STAMP) ## Slow (the dropout tables alone take about 20 minutes): 10-fold CV of the scorecard learner against LR, HGB, optbinning and EBM on data/public (UCI, OULAD, dropout) and scikit-learn's breast cancer table, then the scorecard against its goals fold by fold; saves models/learner-benchmark.csv for mentor fit's model card (BENCHMARK_ARGS=--quick: a look, not saved)
	$(ONE_THREAD) $(BIN)/python -m pipeline.evaluate.realdata $(if $(BENCHMARK_ARGS),$(BENCHMARK_ARGS),--save models/learner-benchmark.csv)

SEEDS ?= 1-10
EFFECTS ?= 0,3

impact-proof: $(STAMP) ## Slow: the impact estimate against the known truth of simulated trusts (SEEDS=1-10 EFFECTS=0,3)
	$(BIN)/python -m pipeline.impact.proof --seeds $(SEEDS) --effects $(EFFECTS) --out out/impact-proof.csv

lock: ## Re-resolve dependencies from pyproject.toml into constraints.txt (then review and commit it)
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade pip
	.lock-venv/bin/python -m pip install --quiet -e ".[dev,spark]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^-e ' > constraints.txt
	rm -rf .lock-venv

clean: ## Remove the virtual environment and caches (keeps data/sample)
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
