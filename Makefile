# chanpool developer commands. Run `make help` for the list.
# Every variable below can be overridden: make test FUZZTIME=5s GO=go1.26.0

GO ?= go
# staticcheck 2026.1 (v0.7.0): builds with go 1.25 and 1.26 and understands Go 1.26 code.
STATICCHECK_VERSION ?= v0.7.0
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
# FUZZTIME, if set, overrides both fuzz durations: 20s inside `test`, 10m for `fuzz`.
FUZZTIME ?=
FUZZ_TARGET ?= FuzzPool
DEMO_FLAGS ?=
BENCHMARKS ?= benchmarks

SHORT_FUZZTIME = $(or $(FUZZTIME),20s)
LONG_FUZZTIME = $(or $(FUZZTIME),10m)

.DEFAULT_GOAL := help
.PHONY: help test test-386 vet lint fmt-check staticcheck vet-benchmarks fuzz demo bench bench-smoke tidy-check

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: vet ## go vet, race-enabled tests, the short tests on 32-bit x86, then a short fuzz run (FUZZTIME, default 20s)
	$(GO) test -race -count=1 ./...
	@$(MAKE) --no-print-directory test-386
	$(GO) test -run='^$$' -fuzz='^$(FUZZ_TARGET)$$' -fuzztime=$(SHORT_FUZZTIME) ./chanpool

# On 32-bit platforms a 64-bit atomic must be 64-bit aligned or it panics; GOARCH=386 runs on an amd64 Linux
# host and catches a misplaced counter. Skipped, saying so, where the host cannot run 386 binaries.
test-386: ## the short tests as GOARCH=386
	@probe=$$(mktemp -d) && printf 'package main\nfunc main() {}\n' > $$probe/main.go && \
	if CGO_ENABLED=0 GOARCH=386 $(GO) build -o $$probe/p $$probe/main.go && $$probe/p 2>/dev/null; then \
		echo "CGO_ENABLED=0 GOARCH=386 $(GO) test -short -count=1 ./..."; rm -rf $$probe; CGO_ENABLED=0 GOARCH=386 $(GO) test -short -count=1 ./...; \
	else rm -rf $$probe; echo "test-386: skipped: this host cannot run 386 binaries"; fi

vet: ## go vet the root module
	$(GO) vet ./...

# lint is split into parts so that `make -k lint` reports every kind of problem in one run.
lint: fmt-check vet staticcheck vet-benchmarks ## gofmt -l, go vet, pinned staticcheck; also vets the benchmarks module

fmt-check: ## fail if any file needs gofmt
	@test -z "$$(gofmt -l .)" || { echo "gofmt: these files need formatting (run gofmt -w .):"; gofmt -l .; exit 1; }

staticcheck: ## staticcheck at the pinned STATICCHECK_VERSION
	$(STATICCHECK) ./...

vet-benchmarks: ## go vet the benchmarks module, if present
	@if [ -d $(BENCHMARKS) ]; then echo "cd $(BENCHMARKS) && $(GO) vet ./..."; cd $(BENCHMARKS) && $(GO) vet ./...; fi

fuzz: ## long fuzz run of FuzzPool (FUZZTIME, default 10m)
	$(GO) test -run='^$$' -fuzz='^$(FUZZ_TARGET)$$' -fuzztime=$(LONG_FUZZTIME) -timeout=0 ./chanpool

demo: ## run the TCP echo demo (a few seconds; DEMO_FLAGS="-duration 5s -clients 128")
	$(GO) run ./examples/echo $(DEMO_FLAGS)

bench: ## full benchmark comparison with a benchstat table (see benchmarks/)
	cd $(BENCHMARKS) && $(MAKE) bench

bench-smoke: ## run every benchmark once, to check they still work
	cd $(BENCHMARKS) && $(GO) test -run='^$$' -bench=. -benchtime=1x ./...

# go mod tidy -diff (Go 1.23+) prints what tidy would change and fails, without
# touching the files: unlike `go mod tidy && git diff`, it also catches an
# untidy go.mod that was never committed, and leaves the work tree alone.
tidy-check: ## fail if go mod tidy would change go.mod or go.sum (both modules)
	$(GO) mod tidy -diff
	@if [ -d $(BENCHMARKS) ]; then echo "cd $(BENCHMARKS) && $(GO) mod tidy -diff"; cd $(BENCHMARKS) && $(GO) mod tidy -diff; fi
