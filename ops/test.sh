#!/usr/bin/env bash
# Runs every test against the real stack: toolchain, stack up, topics and schemas applied, then `npm test`
# (type-check, lint, schema gates, unit and integration tests). Extra arguments go to vitest.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/env.sh"
cd "$SLUICE_ROOT"

node ops/cli/sluice.ts stack up
node ops/cli/sluice.ts topics apply
node ops/cli/sluice.ts schemas register
node ops/toolchain/check-librdkafka.ts
npm test -- "$@"
