# Two commands set everything up on a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
SAMPLE_DB := data/sample.sqlite
SAMPLE_SPECIMENS ?= 10000

.PHONY: install run validate test test-services bench bench-startup bench-cluster clean demo-data demo-data-servers run-all

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(SAMPLE_DB): | install
	$(BIN)/mobilise sample-db $(SAMPLE_DB) --specimens $(SAMPLE_SPECIMENS) --seed 42

## Publish the embedded sample database as a Darwin Core Archive (output/mobilise-sample/dwca.zip).
run: install $(SAMPLE_DB)
	$(BIN)/mobilise run config/sample.yaml

## The three demo institutions' sources (docs/demo-institutions.md): SQLite files and an Excel workbook in data/demo/.
DEMO_SPECIMENS ?= 2000
DARWIN_PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3Ddemo_darwin
SPECIFY_MARIADB_URL ?= mysql+pymysql://root@127.0.0.1:3306/demo_specify?charset=utf8mb4
demo-data: install
	$(BIN)/mobilise sample-db data/demo/darwin.sqlite --kind darwin --specimens $(DEMO_SPECIMENS) --seed 42
	$(BIN)/mobilise sample-db data/demo/specify.sqlite --kind specify --specimens $(DEMO_SPECIMENS) --seed 42
	$(BIN)/mobilise sample-db data/demo/lab.xlsx --kind lab --seed 42

## The same DaRWIN-like rows in PostgreSQL (schema demo_darwin) and Specify-like rows in MariaDB (database
## demo_specify); the configs then read them with RBINS_DARWIN_URL and MEISE_SPECIFY_URL set as printed.
demo-data-servers: install
	$(BIN)/mobilise sample-db '$(DARWIN_PG_URL)' --kind darwin --specimens $(DEMO_SPECIMENS) --seed 42
	$(BIN)/mobilise sample-db '$(SPECIFY_MARIADB_URL)' --kind specify --specimens $(DEMO_SPECIMENS) --seed 42
	@echo "export RBINS_DARWIN_URL='$(DARWIN_PG_URL)' MEISE_SPECIFY_URL='$(SPECIFY_MARIADB_URL)'"

## Publish every dataset config in config/ (the sample and the three demo institutions), then a summary.
run-all: install $(SAMPLE_DB) demo-data
	$(BIN)/mobilise run-all config/

## Everything but publishing: what would be rejected and why.
validate: install $(SAMPLE_DB)
	$(BIN)/mobilise validate config/sample.yaml

## The test suite; PostgreSQL/MariaDB tests skip when the servers are unreachable.
test: install
	$(BIN)/pytest -q

## The test suite with PostgreSQL and MariaDB mandatory (what CI runs).
test-services: install
	MOBILISE_REQUIRE_SERVICES=1 $(BIN)/pytest -q

clean:
	rm -rf output data .pytest_cache

## Benchmark at 1M and 5M specimens against the sqlite3+zip floor, dwcahandler and python-dwca-reader; writes
## bench/results.md (takes about two hours; needs `apt-get install -y sqlite3 zip`, and PostgreSQL/MariaDB as in
## the README for the extraction engines; databases in bench/work/). Then issue 15's table (bench/table.py): the
## sample's heavy query and the lean flat export (bench/lean.py), each with its floor, `mobilise run` BDQ on and off,
## per stage.
BENCH_SIZES ?= 1000000 5000000
BENCH_REPEATS ?= 3 2
## bench-startup: the fixed cost of small runs (issue 15 item 3), a few minutes; prints a section for bench/results.md
bench-startup: install
	$(BIN)/python bench/startup.py

## bench-cluster: issue 15 items 4-5: the lean export on `dask scheduler` + 2 `dask worker` vs a local cluster, records
## compared, throughput per worker, peak PSS summed over all processes (CLUSTER_SIZE=5000000 for the 5M run)
CLUSTER_SIZE ?= 1000000
bench-cluster: install
	$(BIN)/python bench/cluster.py --size $(CLUSTER_SIZE)

bench: install
	@command -v sqlite3 >/dev/null && command -v zip >/dev/null || \
		{ echo "make bench needs the sqlite3 and zip commands: apt-get install -y sqlite3 zip"; exit 1; }
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python bench/run.py --sizes $(BENCH_SIZES) --repeats $(BENCH_REPEATS) --engines adbc --servers
	$(BIN)/python bench/table.py --sizes $(BENCH_SIZES)
