#!/usr/bin/env bash
# make bench: per-function size, cold start and warm latency against a
# hello-world floor, then the Go micro-benchmarks of the hot paths.
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=readonly AWS_EC2_METADATA_DISABLED=true
go run ./infra/bench "$@"
echo
echo "==> Go benchmarks (runtime, gateway, crypto)"
go test -run '^$' -bench . -benchtime 200x ./infra/devstack/lambdart/ ./infra/devstack/restapi/ ./shared/auth/... 2>&1 | grep -E '^(Benchmark|ok|FAIL|goos|pkg)' || true
echo
echo "==> Load: 50 interns, 5 mentors, concurrently (infra/load)"
go run ./infra/load
