#!/usr/bin/env bash
# Runs the whole test suite: formatting, tidy modules, vet, staticcheck, then
# every test on SQLite and PostgreSQL. PostgreSQL is required
# (ROSTER_TEST_POSTGRES, default
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable): when none answers
# there, a throwaway cluster is started from the installed server binaries
# (scripts/postgres.sh); without them the run fails, saying what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/postgres.sh

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
# go.mod and go.sum must be what go mod tidy makes of the imports.
if ! tidy=$(go mod tidy -diff 2>&1); then
  echo "go.mod/go.sum are not tidy (run go mod tidy):"; echo "$tidy"; exit 1
fi
go vet ./...
if command -v staticcheck >/dev/null 2>&1; then
  staticcheck ./...
elif [ -x "$(go env GOPATH)/bin/staticcheck" ]; then
  "$(go env GOPATH)/bin/staticcheck" ./...
else
  echo "staticcheck not installed (go install honnef.co/go/tools/cmd/staticcheck@latest); skipping it"
fi
ensure_postgres
go test -count=1 -timeout 30m "$@" ./...
