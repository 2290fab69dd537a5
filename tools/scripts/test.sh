#!/usr/bin/env bash
# Every check CI runs, in order, stopping at the first failure: contract drift, formatting,
# lint (with project boundaries), typecheck, unit tests, build, then integration and
# end-to-end tests against real Kafka and the real MongoDB-compatible store.
#
# Infrastructure: with SHOAL_TEST_KAFKA_BROKERS and SHOAL_TEST_MONGO_URL set, those are used;
# otherwise the local processes from deploy/local are started (and stopped again at the end
# if this run started them, unless SHOAL_KEEP_INFRA=1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false
nx=(npx nx run-many --output-style=static)
started_at=$SECONDS

step() {
  printf '\n\033[1m== %s\033[0m (%ss)\n' "$1" "$((SECONDS - started_at))"
}

# Every jest run leaves its counts in <project>/.test-results/; the last line of output sums
# them (a failed check outside jest — drift, format, lint, typecheck, build — counts as one).
find libs services tools deploy -maxdepth 3 -type d -name .test-results -prune -exec rm -rf {} +
summary() {
  local status=$?
  trap - EXIT
  [[ -n "${infra_down:-}" ]] && node tools/cli/dist/main.js infra down >/dev/null 2>&1 || true
  printf '\n'
  node tools/scripts/test-summary.js --extra-failed "$((status != 0 && failed_outside_jest))"
  exit "$status"
}
failed_outside_jest=1
trap summary EXIT

step "contracts: buf lint, format and generated-code drift"
bash tools/scripts/generate-contracts.sh --check

step "formatting (prettier)"
npx prettier --check . --log-level warn

step "lint, typecheck, build"
"${nx[@]}" -t lint typecheck build

step "unit tests"
failed_outside_jest=0
"${nx[@]}" -t test
failed_outside_jest=1

if [[ -z "${SHOAL_TEST_KAFKA_BROKERS:-}" || -z "${SHOAL_TEST_MONGO_URL:-}" ]]; then
  step "infrastructure: local Kafka and store"
  infra=(node tools/cli/dist/main.js infra)
  if ! "${infra[@]}" status --json | node -e 'const s=JSON.parse(require("fs").readFileSync(0,"utf8"));process.exit(s.every(c=>c.ready)?0:1)'; then
    if [[ -z "${SHOAL_KEEP_INFRA:-}" ]]; then infra_down=1; fi
  fi
  "${infra[@]}" up
  eval "$("${infra[@]}" env)"
  export SHOAL_TEST_KAFKA_BROKERS="$KAFKA_BROKERS" SHOAL_TEST_MONGO_URL="$MONGO_URL"
fi

step "integration and end-to-end tests (Kafka ${SHOAL_TEST_KAFKA_BROKERS}, store ${SHOAL_TEST_MONGO_URL})"
failed_outside_jest=0
"${nx[@]}" -t integration --parallel=1 --skip-nx-cache

step "all checks passed"
