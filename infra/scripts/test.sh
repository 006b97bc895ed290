#!/usr/bin/env bash
# make test: every test, on a fresh machine with nothing but Go installed.
# Installs what the tests need (linters, the offline vulnerability database),
# then runs formatting and static checks, every Go test (unit, handler,
# template checks, devstack end-to-end) and govulncheck.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=readonly AWS_EC2_METADATA_DISABLED=true
# Tests reach only 127.0.0.1: no credentials or endpoints from the host leak in.
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_ENDPOINT_URL || true

step() { printf '\n==> %s\n' "$*"; }

step "toolchain: $(go version)"
step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))
if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi

step "go vet"
go vet ./...

step "staticcheck"
make --no-print-directory tools >/dev/null
.tools/staticcheck ./...

step "go test"
# -race on the concurrent parts (runtime, gateway, limiter, audit);
# everything else without, to fit two cores.
results=$(mktemp)
race_pkgs=(./infra/devstack/lambdart/... ./infra/devstack/restapi/... ./shared/ratelimit/... ./shared/audit/...)
go test -count=1 -race "${race_pkgs[@]}" 2>&1 | tee -a "$results"
mapfile -t all_pkgs < <(go list ./... | grep -v -E '/infra/devstack/(lambdart|restapi)|/shared/(ratelimit|audit)')
go test -count=1 -timeout 20m "${all_pkgs[@]}" 2>&1 | tee -a "$results"
passed=$(grep -c '^ok ' "$results" || true)
failed=$(grep -c -E '^(FAIL|--- FAIL)' "$results" || true)

step "govulncheck (offline database)"
bash infra/scripts/vuln.sh .tools/govulncheck

echo
echo "packages: $passed passed, $failed failed"
