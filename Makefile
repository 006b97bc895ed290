# Virtual Internship Platform - every target a developer or CI needs.
# The Go toolchain is pinned: go.mod says go 1.27 and the go command fetches
# go1.27.3 from the module proxy on first use.
export GOTOOLCHAIN := go1.27.3
export GOFLAGS := -mod=readonly
export AWS_EC2_METADATA_DISABLED := true

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c

# Lambda targets: linux/arm64 (template Globals: Architectures [arm64]). The
# devstack overrides LAMBDA_GOARCH with the host's so the binaries run locally.
LAMBDA_GOOS ?= linux
LAMBDA_GOARCH ?= arm64
LAMBDA_LDFLAGS = -s -w -X github.com/vip-platform/backend/shared/obs.Version=$(BUILD_VERSION)
BUILD_VERSION ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
BUILD_DIR ?= .aws-sam/build

TOOLS_DIR := $(CURDIR)/.tools
STATICCHECK := $(TOOLS_DIR)/staticcheck
GOVULNCHECK := $(TOOLS_DIR)/govulncheck

.PHONY: dev test test-unit build lint vuln bench invoke deploy clean tools fmt

## dev: the whole platform on 127.0.0.1 (REST API, emulated AWS services).
dev:
	go run ./infra/devstack $(DEVSTACK_FLAGS)

## test: every test - unit, handler, template checks, devstack end-to-end, ClamAV.
test:
	bash infra/scripts/test.sh

## build: every function of template.yaml, as `sam build` would build it.
build:
	@for id in $$(go run ./infra/cmd/samfunctions -template template.yaml); do \
	  $(MAKE) --no-print-directory build-$$id ARTIFACTS_DIR=$(BUILD_DIR)/$$id; \
	done

# sam build (BuildMethod: makefile) runs `make build-<LogicalId>` with
# ARTIFACTS_DIR set; the function's folder follows from its logical ID by the
# convention the template checks enforce: AuthLoginFunction -> functions/auth-login.
build-%:
	@$(MAKE) --no-print-directory build-function \
	  FN_DIR=functions/$$(echo '$*' | sed -E 's/Function$$//; s/([a-z0-9])([A-Z])/\1-\2/g' | tr 'A-Z' 'a-z') \
	  ARTIFACTS_DIR=$(or $(ARTIFACTS_DIR),$(BUILD_DIR)/$*)

# build-function builds one main package (FN_DIR) into $(ARTIFACTS_DIR)/bootstrap.
build-function:
	@test -n "$(FN_DIR)" && test -n "$(ARTIFACTS_DIR)"
	@mkdir -p $(ARTIFACTS_DIR)
	CGO_ENABLED=0 GOOS=$(LAMBDA_GOOS) GOARCH=$(LAMBDA_GOARCH) \
	  go build -tags lambda.norpc -trimpath -ldflags='$(LAMBDA_LDFLAGS)' \
	  -o $(ARTIFACTS_DIR)/bootstrap ./$(FN_DIR)

## invoke: one function like `sam local invoke`: make invoke FN=HealthFunction EVENT=events/health/get.json
invoke:
	@test -n "$(FN)" || { echo "usage: make invoke FN=<LogicalId or folder> EVENT=events/<fn>/<case>.json" >&2; exit 2; }
	go run ./infra/devstack invoke -fn '$(FN)' $(if $(EVENT),-event '$(EVENT)')

## bench: binary size, cold start, warm p50/p99 per function vs a hello-world floor.
bench:
	bash infra/scripts/bench.sh

tools: $(STATICCHECK) $(GOVULNCHECK)

$(STATICCHECK):
	GOBIN=$(TOOLS_DIR) go install honnef.co/go/tools/cmd/staticcheck@v0.8.2

$(GOVULNCHECK):
	GOBIN=$(TOOLS_DIR) go install golang.org/x/vuln/cmd/govulncheck@v1.9.0

## lint: gofmt, go vet, staticcheck.
lint: $(STATICCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$(STATICCHECK) ./...

## vuln: govulncheck against an offline database built from golang.org/x/vulndb.
vuln: $(GOVULNCHECK)
	bash infra/scripts/vuln.sh $(GOVULNCHECK)

## deploy: sam build && sam deploy (needs the SAM CLI and AWS credentials; not run in CI).
deploy:
	sam build --template template.yaml
	sam deploy --config-env $(or $(ENV),dev)

clean:
	rm -rf .aws-sam .devstack
