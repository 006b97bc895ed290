#!/usr/bin/env bash
# govulncheck against an offline database built from the golang.org/x/vulndb
# module (the Go module proxy is the only registry CI reaches).
set -euo pipefail
cd "$(dirname "$0")/../.."
export GOTOOLCHAIN=go1.27.3 GOFLAGS=-mod=readonly
govulncheck=${1:-.tools/govulncheck}
vulndb_version=v0.0.0-20261105234957-e22db6528018
db=.tools/vulndb-$vulndb_version
if [ ! -f "$db/index/db.json" ] && [ ! -f "$db/index/db.json.gz" ]; then
  GOBIN="$PWD/.tools" go install golang.org/x/vulndb/cmd/indexdb@$vulndb_version
  src=$(go env GOMODCACHE)/golang.org/x/vulndb@$vulndb_version/data/osv
  rm -rf "$db.tmp" && mkdir -p "$db.tmp"
  .tools/indexdb -vulns "$src" -out "$db.tmp"
  mv "$db.tmp" "$db"
fi
"$govulncheck" -db "file://$PWD/$db" ./...
