#!/usr/bin/env bash
# Lints proto/ and regenerates libs/contracts/src/gen with buf + protoc-gen-es.
# With --check, generates into a scratch copy and fails when the checked-in code differs
# (contract drift), leaving the working tree untouched.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
buf="$root/node_modules/.bin/buf"
gen="$root/libs/contracts/src/gen"

cd "$root/proto"
"$buf" lint
"$buf" format --diff --exit-code

if [[ "${1:-}" == "--check" ]]; then
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  cp -r "$root/proto" "$scratch/proto"
  mkdir -p "$scratch/node_modules/.bin" "$scratch/libs/contracts/src"
  ln -s "$root/node_modules/.bin/protoc-gen-es" "$scratch/node_modules/.bin/protoc-gen-es"
  (cd "$scratch/proto" && "$buf" generate)
  if ! diff -ru "$gen" "$scratch/libs/contracts/src/gen"; then
    echo "contract drift: libs/contracts/src/gen does not match proto/ — run 'npm run generate' and commit" >&2
    exit 1
  fi
  echo "contracts: generated code matches proto/"
else
  "$buf" generate
  echo "contracts: generated into libs/contracts/src/gen"
fi
