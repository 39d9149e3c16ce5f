# Targets for developers and CI. `make test` needs nothing outside the
# repository; `make conformance` checks Gait against the v1 corpus and the
# reference binary in GAIT_CONFORMANCE_DIR. `.ci/run` runs both.
GO       ?= go
BIN      := bin/gait
TESTSUM  := bin/testsum
FUZZTIME ?= 30s
PKGS     := ./...

.PHONY: all test vet tidy gotest e2e build testsum lint lint-workflows fmt fuzz bench clean conformance goreleaser-check release-snapshot

all: build

test: vet tidy gotest e2e lint-workflows
	@echo "conformance: not run by make test; run make conformance GAIT_CONFORMANCE_DIR=<folder holding conformance/ and peers/>"

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: run make fmt"; exit 1; }
	$(GO) vet $(PKGS)

# go.mod and go.sum must already be tidy.
tidy:
	$(GO) mod tidy -diff

# Unit and script tests on the repository's own inputs. The conformance
# package is vetted (so it compiles) but not run here.
gotest: testsum
	$(GO) test -race -count=1 -json $$($(GO) list $(PKGS) | grep -v '/conformance$$') | $(TESTSUM) -label "make test"

# testsum prints go test's failures and skips and counts the tests that ran.
testsum:
	@$(GO) build -o $(TESTSUM) ./scripts/testsum

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o $(BIN) ./cmd/gait

# End-to-end scripts against the built binary.
e2e: build
	GAIT_BIN=$(abspath $(BIN)) bash scripts/e2e.sh

# golangci-lint (pinned in tools/lint/go.mod, see .golangci.yml).
lint: vet tidy goreleaser-check
	$(GO) tool -modfile=tools/lint/go.mod golangci-lint run ./...

# actionlint (pinned in tools/go.mod) on the project's workflows and the templates.
lint-workflows:
	$(GO) tool -modfile=tools/go.mod actionlint .github/workflows/*.yml workflows-templates/*.yml

fmt:
	gofmt -w $$(git ls-files '*.go')

# Each fuzz target runs for FUZZTIME; crashers land in testdata/fuzz/.
fuzz:
	@set -e; for pkg in $$($(GO) list $(PKGS)); do \
		for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz' || true); do \
			echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg; \
		done; \
	done

# The v1 conformance suite: needs GAIT_CONFORMANCE_DIR (the folder holding
# conformance/ and peers/); anything missing in it fails the suite.
conformance: build testsum
	@test -n "$(GAIT_CONFORMANCE_DIR)" || { echo "conformance: set GAIT_CONFORMANCE_DIR to the folder holding conformance/ and peers/"; exit 1; }
	@test -d "$(GAIT_CONFORMANCE_DIR)" || { echo "conformance: GAIT_CONFORMANCE_DIR=$(GAIT_CONFORMANCE_DIR) is not a folder"; exit 1; }
	GAIT_CONFORMANCE_DIR=$(abspath $(GAIT_CONFORMANCE_DIR)) GAIT_BIN=$(abspath $(BIN)) $(GO) test -count=1 -json ./conformance/... | $(TESTSUM) -label "make conformance"

GORELEASER := $(GO) tool -modfile=tools/release/go.mod goreleaser

# goreleaser (pinned in tools/release/go.mod) checks .goreleaser.yaml.
goreleaser-check:
	$(GORELEASER) check

# The release build without publishing, signing or images: every archive,
# SBOM and checksums.txt in dist/; then the setup action installs from it.
release-snapshot: goreleaser-check
	$(GO) build -modfile=tools/release/go.mod -o bin/tools/cyclonedx-gomod github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod
	PATH="$(abspath bin/tools):$$PATH" $(GORELEASER) release --snapshot --clean --skip=publish,sign,docker
	GAIT_SETUP_DIST=$(abspath dist) $(GO) test -count=1 -run TestInstallSnapshot ./setup/

bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin gait-out dist
