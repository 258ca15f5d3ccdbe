#!/usr/bin/env bash
# Runs every test against the real stack: toolchain, stack up, topics and schemas applied, then `npm test`
# (type-check, lint, schema gates, unit and integration tests), then the outage and container tests in a bounded
# form. Extra arguments go to vitest (and skip the bounded slow ones).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/env.sh"
cd "$SLUICE_ROOT"

node ops/cli/sluice.ts stack up --with s3
node ops/cli/sluice.ts topics apply
node ops/cli/sluice.ts schemas register
node ops/toolchain/check-librdkafka.ts

results=.sluice/test-results.json
slow_results=.sluice/test-results-slow.json
rm -f "$results" "$slow_results"
status=0
npm test -- --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
# The slow ones in a bounded form: outages of 10 s (npm run test:chaos holds them 30-60 s), and the container image
# (built once; podman's layer cache makes later builds take seconds).
if [ $# -eq 0 ]; then
  SLUICE_OUTAGE_SECONDS="${SLUICE_OUTAGE_SECONDS:-10}" npx vitest run --project chaos --project container \
    --reporter=default --reporter=json --outputFile.json="$slow_results" || status=$?
fi
for file in "$results" "$slow_results"; do
  [ -f "$file" ] && node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`tests (${process.argv[2]}): ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$file" "$([ "$file" = "$results" ] && echo "unit, integration" || echo "chaos, container")"
done
exit "$status"
