# maildlp — see README.md. Every target works on a fresh Debian machine:
# scripts/deps.sh installs what the tests need (idempotent, quiet when done).
SHELL     := /bin/bash
GO        ?= go
BIN       := bin/maildlp
PKGS      := ./...
FUZZTIME  ?= 5s

.PHONY: all build run test test-unit test-race test-integration quality bench bench-milter bench-reinject bench-console bench-hostile bench-store bench-edm bench-idm fuzz fuzz-short lint check deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/maildlp

run: build
	./scripts/run.sh

# test is what CI runs: lint, unit tests with the race detector, the
# detection quality bar, short fuzz runs, and the integration tests against
# a real Postfix.
test: lint test-race quality fuzz-short test-integration

test-unit:
	./scripts/deps.sh unit
	$(GO) test -count=1 $(PKGS)

# The store tests start a real PostgreSQL (scripts/deps.sh store installs
# it; without it they skip and say so). The console's browser tests need
# Chromium; under make test they fail rather than skip when it is missing.
test-race:
	./scripts/deps.sh store
	./scripts/deps.sh console
	MAILDLP_REQUIRE_BROWSER=1 $(GO) test -count=1 -race $(PKGS)

test-integration: build
	./scripts/deps.sh integration
	./scripts/deps.sh console
	mkdir -p bin && cd integration && MAILDLP_REQUIRE_BROWSER=1 $(GO) test -count=1 -timeout 30m ./...

# quality scores the default policy on the project's corpora (generated
# clean mail, the installed Debian documentation, the positive corpus):
# precision, recall, false positives per 1,000 clean messages. It fails
# below the bar: no detection at medium or above on clean mail, every
# positive case found. QUALITY_SEED=n generates the corpora from another
# seed: the same kinds of mail with other values.
quality:
	./scripts/deps.sh quality
	set -o pipefail; MAILDLP_QUALITY_SEED=$(QUALITY_SEED) $(GO) test -count=1 -v -run '^TestIssue8' ./policy/quality/ | grep -v -e '^=== ' -e '^    [a-z_]*_test.go:'

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-milter: build
	./scripts/deps.sh integration
	./scripts/bench-milter.sh

bench-reinject: build
	./scripts/deps.sh integration
	./scripts/bench-reinject.sh

# bench-console renders every console page over 1,000,000 incidents in a
# SQLite store (built once under bin/, a few minutes) and reports the
# server time and size of each page.
bench-console:
	MAILDLP_BENCH_DB=$(CURDIR)/bin/bench-console.db $(GO) test -run '^$$' -bench Console -benchtime 20x -timeout 60m ./console/

# bench-store seeds 1,000,000 incidents (once, in the temporary directory
# for SQLite; per run for PostgreSQL) and times list pages and details on
# SQLite and PostgreSQL, and the ingest rate on SQLite.
bench-store:
	./scripts/deps.sh store
	MAILDLP_BENCH_STORE=1 $(GO) test -run '^$$' -bench . -benchtime 20x -timeout 60m ./store/
	$(GO) test -run '^$$' -bench . -benchtime 20000x ./ingest/

# bench-idm matches 1 MiB of mail text against an index of 10 million
# fingerprints (target: 50 MB/s per core; docs/idm.md).
bench-idm:
	$(GO) test -run '^$$' -bench . -benchtime 20x -cpu 1 ./policy/idm/

bench-hostile:
	./scripts/bench-hostile.sh

# bench-edm builds an exact-data-matching index of EDM_BENCH_ROWS rows
# (default 1,000,000; 3 primary and 2 supporting columns) and reports
# build time, size per million rows, load time and scan speed per core.
EDM_BENCH_ROWS ?= 1000000
bench-edm:
	EDM_BENCH_ROWS=$(EDM_BENCH_ROWS) $(GO) test -run '^$$' -bench EDM -benchtime 5x -timeout 30m ./policy/edm/

fuzz:
	FUZZTIME=2m ./scripts/fuzz.sh

fuzz-short:
	FUZZTIME=$(FUZZTIME) ./scripts/fuzz.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)
	cd integration && $(GO) vet ./...

check: lint test-unit

clean:
	rm -rf bin
