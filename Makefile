# Two entry points that work on a fresh machine with only Python 3.11+:
#   make demo   – set up, then check the example rulesets, decide for one customer with the
#                 trace, run the rulesets' examples, prove their properties, decide a portfolio
#                 of 1,000 customers with its budget, compare a challenger with it over that
#                 book, and show what mistakes look like
#   make test   – set up (with the Spark extra: pyspark, pandas; Java 17+ must be installed),
#                 then run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test bench lint clean vsix

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# The Spark runs' tests need the optional extra (tenet[spark]); the demo does not.
$(VENV)/.spark: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test,spark]'
	touch $@

demo: $(VENV)/.installed
	$(BIN)/tenet check rulesets/
	@echo
	$(BIN)/tenet run rulesets/limit_review.rules --facts rulesets/facts/limit_review_strong_payer.json --as-of 2026-12-15
	@echo
	$(BIN)/tenet test rulesets/
	@echo
	$(BIN)/tenet verify rulesets/
	@echo
	@mkdir -p build
	$(BIN)/tenet batch rulesets/limit_review.rules --facts rulesets/facts/book.csv \
	  --out build/book.decisions.csv --as-of 2026-12-15 --id customer.customer_id \
	  --summary build/book.summary.json
	@echo
	$(BIN)/tenet diff rulesets/limit_review.rules rulesets/challengers/limit_review_2027.rules \
	  --facts rulesets/facts/book.csv --as-of 2026-12-15 --id customer.customer_id
	$(BIN)/tenet diff rulesets/limit_review.rules rulesets/challengers/limit_review_2027.rules \
	  --facts rulesets/facts/book.csv --as-of 2026-12-15 --id customer.customer_id \
	  --format html --out build/limit_review_diff.html
	@echo "the same report as a page: build/limit_review_diff.html"
	@echo
	@echo "--- a ruleset with mistakes (exit status 1 is expected) ---"
	-$(BIN)/tenet check docs/examples/mistakes.rules

# The VS Code extension (editors/vscode): compiled, its grammar tested on the rulesets, packaged
# as editors/vscode/tenet-rules.vsix. Needs Node.js 18+ and npm.
vsix:
	cd editors/vscode && npm ci --no-audit --no-fund --loglevel=error && npm run --silent compile \
	  && npm test --silent && npm run --silent package

# The rulesets are linted, formatted and their examples run as a user would, then the
# extension is built and the suite runs.
test: $(VENV)/.spark
	@mkdir -p build
	$(MAKE) --no-print-directory vsix
	$(BIN)/lint-imports
	$(BIN)/tenet check --strict rulesets/
	$(BIN)/tenet fmt --check rulesets/
	$(BIN)/tenet test rulesets/ > build/rulesets-examples.log || (cat build/rulesets-examples.log; exit 1)
	$(BIN)/tenet verify rulesets/
	$(BIN)/tenet verify rulesets/challengers/limit_review_2027.rules --baseline rulesets/limit_review.rules
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-ci} $(BIN)/python -m pytest

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/check_5000_rules.py
	$(BIN)/python benchmarks/decide.py
	$(BIN)/python benchmarks/load_5000_rules.py
	$(BIN)/python benchmarks/verify.py
	$(BIN)/python benchmarks/serve.py
	$(BIN)/python benchmarks/lsp.py
	$(BIN)/python benchmarks/batch.py --rows 200000 --small 50000

lint: $(VENV)/.installed
	$(BIN)/ruff check engine cli.py tests benchmarks

clean:
	rm -rf $(VENV) build .pytest_cache .hypothesis editors/vscode/node_modules editors/vscode/out
