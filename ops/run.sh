#!/usr/bin/env bash
# Runs the platform on this machine: toolchain, local stack, topics, schemas, demo traffic, and where to look.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/env.sh"
cd "$SLUICE_ROOT"

sluice() { node ops/cli/sluice.ts "$@"; }

sluice stack up
sluice topics apply
sluice schemas register
node ops/demo/demo-traffic.ts

echo
echo "== the first orders on orders.created (decoded from Avro through the registry) =="
sluice tail orders.created --from-beginning --max 3 --timeout 30s
echo
echo "== their states on orders.state =="
sluice tail orders.state --from-beginning --max 4 --timeout 30s

cat <<TXT

== where to look ==
$(sluice stack status)

  tail a topic      npx sluice tail orders.state --from-beginning
  the catalog       npx sluice topics list
  schemas           curl -s ${SCHEMA_REGISTRY_URL:-http://127.0.0.1:8081/apis/ccompat/v7}/subjects
  stack logs        $SLUICE_ROOT/.sluice/logs/
  stop the stack    npx sluice stack down
  (npx needs Node 24 on PATH: source ops/toolchain/env.sh)
TXT
