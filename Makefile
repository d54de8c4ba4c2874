# maildlp — see README.md. Every target works on a fresh Debian machine:
# scripts/deps.sh installs what the tests need (idempotent, quiet when done).
SHELL     := /bin/bash
GO        ?= go
BIN       := bin/maildlp
PKGS      := ./...
FUZZTIME  ?= 5s

.PHONY: all build run test test-unit test-race test-integration bench bench-milter bench-reinject bench-hostile fuzz fuzz-short lint check deps clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/maildlp

run: build
	./scripts/run.sh

# test is what CI runs: lint, unit tests with the race detector, short fuzz
# runs, and the integration tests against a real Postfix.
test: lint test-race fuzz-short test-integration

test-unit:
	$(GO) test -count=1 $(PKGS)

test-race:
	$(GO) test -count=1 -race $(PKGS)

test-integration: build
	./scripts/deps.sh integration
	mkdir -p bin && cd integration && $(GO) test -count=1 -timeout 30m ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

bench-milter: build
	./scripts/deps.sh integration
	./scripts/bench-milter.sh

bench-reinject: build
	./scripts/deps.sh integration
	./scripts/bench-reinject.sh

bench-hostile:
	./scripts/bench-hostile.sh

fuzz:
	FUZZTIME=60s ./scripts/fuzz.sh

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
