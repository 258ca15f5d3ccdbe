#!/usr/bin/env bash
# Runs every test against the real stack: toolchain, stack up, topics and schemas applied, then `npm test`
# (type-check, lint, schema gates, unit and integration tests). Extra arguments go to vitest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/env.sh"
cd "$SLUICE_ROOT"

node ops/cli/sluice.ts stack up --with s3
node ops/cli/sluice.ts topics apply
node ops/cli/sluice.ts schemas register
node ops/toolchain/check-librdkafka.ts

results=.sluice/test-results.json
rm -f "$results"
status=0
npm test -- --reporter=default --reporter=json --outputFile.json="$results" "$@" || status=$?
if [ -f "$results" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
  ' "$results"
fi
exit "$status"
