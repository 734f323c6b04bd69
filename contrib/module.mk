# The targets every contrib module's Makefile shares. A module's Makefile sets
# MODULE (its path from the repository root), adds its own targets to
# EXTRA_PHONY, and includes this file:
#
#	MODULE := contrib/otel
#	include ../module.mk
#
# The checks are the root Makefile's, run on this module only: the tool
# versions and the commands are set there once, for every module.

GO ?= go
ROOT := ../..

.DEFAULT_GOAL := help
.PHONY: help test vet lint tidy-check $(EXTRA_PHONY)

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z0-9-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: ## go vet, then race-enabled tests
	$(MAKE) -C $(ROOT) vet/$(MODULE) race/$(MODULE)

vet: ## go vet this module
	$(MAKE) -C $(ROOT) vet/$(MODULE)

lint: ## gofmt -l, go vet and the root's pinned staticcheck
	$(MAKE) -C $(ROOT) fmt-check/$(MODULE) vet/$(MODULE) staticcheck/$(MODULE)

tidy-check: ## fail if go mod tidy would change go.mod or go.sum
	$(MAKE) -C $(ROOT) tidy-check/$(MODULE)
