# chanpool developer commands. Run `make help` for the list.
# Every variable below can be overridden: make test FUZZTIME=5s GO=go1.26.0

GO ?= go
# Every Go module of the repository: test, lint and tidy-check loop over this list, and .ci/run reads it
# (make print-modules). A new module (contrib/pgx, ...) joins by being added here, nowhere else.
MODULES ?= . contrib/prometheus contrib/otel contrib/pgx contrib/mcp benchmarks
# staticcheck 2026.1 (v0.7.0): builds with go 1.25 and 1.26 and understands Go 1.26 code. Pinned here only:
# the sub-Makefiles delegate to this one.
STATICCHECK_VERSION ?= v0.7.0
STATICCHECK ?= $(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
# FUZZTIME, if set, overrides both fuzz durations: 20s inside `test`, 10m for `fuzz`.
FUZZTIME ?=
FUZZ_TARGETS ?= FuzzPool FuzzGroup
DEMO_FLAGS ?=
BENCHMARKS ?= benchmarks

SHORT_FUZZTIME = $(or $(FUZZTIME),20s)
LONG_FUZZTIME = $(or $(FUZZTIME),10m)

# Each check has one target per module, e.g. vet/contrib/prometheus or race/benchmarks (race/. is the root
# module): `make -k` goes on to the other modules after a failure, and one module can be checked alone.
# $(call per-module,vet) is vet/. vet/contrib/prometheus vet/benchmarks.
CHECKS := fmt-check vet staticcheck race tidy-check
per-module = $(addprefix $(1)/,$(MODULES))

.DEFAULT_GOAL := help
.PHONY: help print-modules test test-386 vet lint fmt-check staticcheck race fuzz demo demo-mcp demo-resize demo-otel bench bench-smoke callgrind \
	tidy-check $(foreach c,$(CHECKS),$(call per-module,$(c)))

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "  <check>/<module> runs one check on one module, e.g. make race/contrib/prometheus"
	@echo "  (checks: $(CHECKS); modules: $(MODULES))"

print-modules: ## the module directories, one line, for scripts (.ci/run)
	@echo $(MODULES)

test: vet race ## go vet and race tests of every module, the root's short tests on 32-bit x86, a short run of each fuzzer (FUZZTIME, default 20s each)
	@$(MAKE) --no-print-directory test-386
	@for f in $(FUZZ_TARGETS); do echo "$(GO) test -run='^$$' -fuzz='^$$f\$$' -fuzztime=$(SHORT_FUZZTIME) ./chanpool"; \
		$(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(SHORT_FUZZTIME) ./chanpool || exit 1; done

# The benchmarks module's tests run here too: TestChanpoolZeroAllocs backs the README's zero-allocation claim.
# It does not skip under -race (only under -short), so the race run is enough for it to run in CI.
race: $(call per-module,race) ## race-enabled tests of every module
$(call per-module,race): race/%:
	cd $* && $(GO) test -race -count=1 ./...

# On 32-bit platforms a 64-bit atomic must be 64-bit aligned or it panics; GOARCH=386 runs on an amd64 Linux
# host and catches a misplaced counter. Those atomics are chanpool's, in the root module, so only its tests run
# here. Skipped, saying so, where the host cannot run 386 binaries.
test-386: ## the root module's short tests as GOARCH=386
	@probe=$$(mktemp -d) && printf 'package main\nfunc main() {}\n' > $$probe/main.go && \
	if CGO_ENABLED=0 GOARCH=386 $(GO) build -o $$probe/p $$probe/main.go && $$probe/p 2>/dev/null; then \
		echo "CGO_ENABLED=0 GOARCH=386 $(GO) test -short -count=1 ./..."; rm -rf $$probe; CGO_ENABLED=0 GOARCH=386 $(GO) test -short -count=1 ./...; \
	else rm -rf $$probe; echo "test-386: skipped: this host cannot run 386 binaries"; fi

vet: $(call per-module,vet) ## go vet every module
$(call per-module,vet): vet/%:
	cd $* && $(GO) vet ./...

# lint is split into parts, one per check and module, so that `make -k lint` reports every kind of problem
# in every module in one run.
lint: fmt-check vet staticcheck ## gofmt -l, go vet and the pinned staticcheck, on every module

fmt-check: $(call per-module,fmt-check) ## fail if any file needs gofmt
# A module's Go files are those under its directory, less those of the modules nested in it (the root's).
$(call per-module,fmt-check): fmt-check/%:
	@files=$$(find $* -mindepth 1 -type d -exec test -e '{}/go.mod' ';' -prune -o -name '*.go' -print | xargs -r gofmt -l); \
	test -z "$$files" || { echo "gofmt: these files need formatting (run gofmt -w on them):"; echo "$$files"; exit 1; }

staticcheck: $(call per-module,staticcheck) ## staticcheck at the pinned STATICCHECK_VERSION
$(call per-module,staticcheck): staticcheck/%:
	cd $* && $(STATICCHECK) ./...

# go mod tidy -diff (Go 1.23+) prints what tidy would change and fails, without
# touching the files: unlike `go mod tidy && git diff`, it also catches an
# untidy go.mod that was never committed, and leaves the work tree alone.
tidy-check: $(call per-module,tidy-check) ## fail if go mod tidy would change go.mod or go.sum, in any module
$(call per-module,tidy-check): tidy-check/%:
	cd $* && $(GO) mod tidy -diff

fuzz: ## long fuzz run of each of FUZZ_TARGETS (FuzzPool, FuzzGroup), FUZZTIME each (default 10m)
	@for f in $(FUZZ_TARGETS); do echo "$(GO) test -run='^$$' -fuzz='^$$f\$$' -fuzztime=$(LONG_FUZZTIME) ./chanpool"; \
		$(GO) test -run='^$$' -fuzz="^$$f\$$" -fuzztime=$(LONG_FUZZTIME) -timeout=0 ./chanpool || exit 1; done

demo: ## run the TCP echo demo (a few seconds; DEMO_FLAGS="-duration 5s -clients 128")
	$(GO) run ./examples/echo $(DEMO_FLAGS)

demo-mcp: ## per-call latency of MCP tools/call, pooled vs connect-per-call, stdio and HTTP (contrib/mcp)
	$(MAKE) -C contrib/mcp demo DEMO_FLAGS="$(DEMO_FLAGS)"

demo-resize: ## the demo with a live resize: MaxConns lowered to a quarter under load, then raised back
	$(GO) run ./examples/echo -resize $(DEMO_FLAGS)

demo-otel: ## one traced slow acquire, exported to stdout as an OpenTelemetry span (contrib/otel/cmd/demo)
	cd contrib/otel && $(GO) run ./cmd/demo

bench: ## full benchmark comparison with a benchstat table (see benchmarks/)
	$(MAKE) -C $(BENCHMARKS) bench

# The tests of the benchmarks module run in `make test`; this runs its benchmarks.
bench-smoke: ## run every benchmark once, to check they still work
	cd $(BENCHMARKS) && $(GO) test -run='^$$' -bench=. -benchtime=1x ./...

callgrind: ## instructions per uncontended acquire+release under callgrind (needs valgrind; OTEL=1: contrib/otel's Tracer too)
	bash $(BENCHMARKS)/callgrind.sh
