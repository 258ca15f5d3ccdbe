#!/usr/bin/env bash
# Runs the platform on this machine: toolchain, local stack, topics, schemas, every processor (in the background),
# demo traffic, what the processors made of it, and where to look.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/toolchain/env.sh"
cd "$SLUICE_ROOT"

sluice() { node ops/cli/sluice.ts "$@"; }
PORT="${SLUICE_HTTP_PORT:-9400}"
PID_FILE=.sluice/run/processors.pid
WEBHOOK_PID_FILE=.sluice/run/webhook.pid
SERVICE_PID_FILES=(.sluice/run/outbox-relay.pid .sluice/run/orders-service.pid .sluice/run/users-service.pid
  .sluice/run/flashsale-service.pid .sluice/run/videos-service.pid .sluice/run/dashboard.pid)
DASHBOARD_PORT="${SLUICE_DASHBOARD_PORT:-9450}"
LOG_FILE=.sluice/logs/processors.log

sluice stack up
sluice topics apply
sluice schemas register

# One processor host, one webhook receiver, the outbox relay and the two services for the demo: replace those a
# previous run left.
for pid_file in "$PID_FILE" "$WEBHOOK_PID_FILE" "${SERVICE_PID_FILES[@]}"; do
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    kill -TERM "$(cat "$pid_file")"
    while kill -0 "$(cat "$pid_file")" 2>/dev/null; do sleep 0.2; done
  fi
done
mkdir -p .sluice/run .sluice/logs

# The alert sink delivers to a local webhook receiver, signed with a key made for this machine.
[ -s .sluice/run/webhook-secret ] || (umask 077 && head -c 24 /dev/urandom | base64 >.sluice/run/webhook-secret)
export ALERT_WEBHOOK_SECRET="${ALERT_WEBHOOK_SECRET:-$(cat .sluice/run/webhook-secret)}"
export ALERT_WEBHOOK_URL="${ALERT_WEBHOOK_URL:-http://127.0.0.1:9480/alerts}"
nohup node ops/demo/demo-webhook.ts >>.sluice/logs/webhook.log 2>&1 &
echo $! >"$WEBHOOK_PID_FILE"
# Short deadlines so the demo shows them: unpaid orders are cancelled after 10s; the flaky mail server refuses once.
# The processors' own logs are shipped too (as service "sluice"), so they are searchable beside the shop's.
# The archive finishes a file after 5s without a record, so the demo's files appear while it runs.
# The flash-sale writer writes 20 orders a second, so its steady pace shows against the burst.
SLUICE_ORDER_TIMEOUT="${SLUICE_ORDER_TIMEOUT:-10s}" SLUICE_FLAKY_EMAIL_ATTEMPTS=1 SLUICE_FLASHSALE_WRITE_RATE=20 \
  SLUICE_SHIP_LOGS_AS="${SLUICE_SHIP_LOGS_AS:-sluice}" ARCHIVE_IDLE_FLUSH="${ARCHIVE_IDLE_FLUSH:-5s}" \
  nohup node ops/cli/sluice.ts run --all --port "$PORT" >>"$LOG_FILE" 2>&1 &
echo $! >"$PID_FILE"
echo "[run] processors starting (pid $(cat "$PID_FILE"), log $LOG_FILE)"
for _ in $(seq 1 120); do
  curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null && break
  kill -0 "$(cat "$PID_FILE")" 2>/dev/null || { echo "[run] processors exited:"; tail -20 "$LOG_FILE"; exit 1; }
  sleep 0.5
done
curl -sf "http://127.0.0.1:$PORT/health/ready" >/dev/null || { echo "[run] processors not ready:"; tail -20 "$LOG_FILE"; exit 1; }
echo "[run] processors ready: inventory, inventory-restore, points, email, email-sender, order-state, order-timeout, order-timeout-check, user-directory, flashsale-expiry, flashsale-expiry-check, flashsale-writer, video-transcoder, video-status, log-sink, archive-logs.app, alert-rules, alert-rules-checks, alert-sink, delay router"

# The reference services write their events through the transactional outbox; the relay publishes them.
nohup node ops/cli/sluice.ts outbox relay >>.sluice/logs/outbox-relay.log 2>&1 &
echo $! >.sluice/run/outbox-relay.pid
# The gateway admits 1,000 attempts a second (200 at once): the demo's burst meets its 429s.
for service in orders users flashsale videos; do
  SLUICE_FLASHSALE_RATE=1000 SLUICE_FLASHSALE_BURST=200 nohup node ops/cli/sluice.ts serve "$service" >>".sluice/logs/$service-service.log" 2>&1 &
  echo $! >".sluice/run/$service-service.pid"
done
for url in http://127.0.0.1:9410 http://127.0.0.1:9420 http://127.0.0.1:9430 http://127.0.0.1:9440; do
  for _ in $(seq 1 60); do curl -sf "$url/health/ready" >/dev/null && break; sleep 0.5; done
  curl -sf "$url/health/ready" >/dev/null || { echo "[run] $url not ready: see .sluice/logs/*-service.log"; exit 1; }
done
echo "[run] order service :9410, user service :9420, flash-sale gateway :9430, video service :9440 and the outbox relay running"
# The dashboard, and its lag monitor: lag and DLQ-growth events for the alert rules.
nohup node ops/cli/sluice.ts dashboard --port "$DASHBOARD_PORT" >>.sluice/logs/dashboard.log 2>&1 &
echo $! >.sluice/run/dashboard.pid
for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$DASHBOARD_PORT/api/overview" >/dev/null && break; sleep 0.5; done
curl -sf "http://127.0.0.1:$DASHBOARD_PORT/api/overview" >/dev/null ||
  { echo "[run] the dashboard is not up: see .sluice/logs/dashboard.log"; exit 1; }
echo "[run] dashboard on http://127.0.0.1:$DASHBOARD_PORT/"

node ops/demo/demo-traffic.ts
echo
echo "== flash sale: gateway (token bucket, Redis Lua) -> flashsale.purchases -> flashsale-writer (steady rate) -> PostgreSQL =="
node ops/demo/demo-flashsale.ts
echo
echo "== video: POST /videos -> media store + videos.uploaded (outbox) -> video-transcoder (ffmpeg, a long-running job) -> videos.processed -> video-status =="
node ops/demo/demo-video.ts
echo
echo "== the log pipeline: shipper -> logs.app -> log-sink -> Elasticsearch, archive-logs.app -> Avro files; alert-rules -> alerts -> alert-sink -> webhook =="
node ops/demo/demo-logs.ts
echo
echo "== config broadcast: sluice config set -> PostgreSQL + config.updates (+ Redis, the fast path) -> every node =="
sluice config set demo.banner "Black Friday, $(date -u +%T)"
for _ in $(seq 1 20); do grep -q '"config.key":"demo.banner"' "$LOG_FILE" && break; sleep 0.5; done
grep '"config.key":"demo.banner"' "$LOG_FILE" | tail -1 | node -e '
  const line = require("fs").readFileSync(0, "utf8").trim();
  if (!line) { console.log("[config] the processors did not apply demo.banner within 10s: see '"$LOG_FILE"'"); process.exit(1); }
  const r = JSON.parse(line);
  console.log(`[config] the processors (pid ${r["process.pid"]}) applied demo.banner version ${r["config.version"]}, first via ${r.via}`);
'
echo "[run] waiting 15s: the payment deadlines (10s) pass and the flaky email's retry tier (5s) comes due"
sleep 15
echo
echo "== the flash sale after its payment window: unpaid reservations expired, their units back in Redis =="
sluice flashsale reconcile "$(cat .sluice/run/demo-sale)"

echo
echo "== what the processors did =="
node ops/demo/demo-report.ts "$PORT"
echo
echo "== the cancellations on orders.cancelled =="
sluice tail orders.cancelled --from-beginning --max 3 --timeout 10s

cat <<TXT

== where to look ==
$(sluice stack status)

  processors        running in the background (pid $(cat "$PID_FILE")); log: $LOG_FILE
  dashboard         http://127.0.0.1:$DASHBOARD_PORT/   (lag, throughput, retry tiers, DLQ browser and replay)
  lag, DLQs         npx sluice lag [--watch]    npx sluice dlq list | show | replay [--group G] [--yes]
  place an order    curl -s -XPOST http://127.0.0.1:9410/orders -H 'content-type: application/json' \
                      -d '{"requestId":"r-1","userId":"user-100","items":[{"sku":"sku-tee","quantity":1,"unitPriceCents":1999}]}'
                    curl -s http://127.0.0.1:9410/orders/ORDER_ID   (order service; its events go out through the outbox relay)
  change a user     curl -s -XPUT http://127.0.0.1:9420/users/user-100/status -H 'content-type: application/json' -d '{"status":"SUSPENDED"}'
  rebuild users     npx sluice users rebuild   (the user directory, from the compacted users.status)
  flash sale        npx sluice flashsale create SALE --sku sku-console --units 100 [--per-user 1] [--payment-window 15m]
                    curl -s -XPOST http://127.0.0.1:9430/flash-sales/SALE/purchases -H 'content-type: application/json' \
                      -d '{"userId":"user-100","sku":"sku-console","quantity":1,"requestId":"r-1"}'
                    npx sluice flashsale status SALE | reconcile SALE
  upload a video    curl -s -F userId=user-100 -F file=@my.mp4 http://127.0.0.1:9440/videos
                    curl -s http://127.0.0.1:9440/videos/VIDEO_ID   (PROCESSING, READY with renditions, or FAILED)
  the media store   $SLUICE_ROOT/${MEDIA_DIR:-.sluice/media}/videos/VIDEO_ID/
  metrics, health   http://127.0.0.1:$PORT/metrics   http://127.0.0.1:$PORT/health/ready
  tail a topic      npx sluice tail orders.state --from-beginning
  the DLQ of a group npx sluice tail orders.state.order-state.dlq --from-beginning
  the catalog       npx sluice topics list
  search the logs   curl -s '${ELASTICSEARCH_URL:-http://127.0.0.1:9200}/logs-*/_search?q=log.level:error&size=3&pretty'
                    (Kibana, with Docker: docker compose -f ops/compose.yaml up -d kibana; http://127.0.0.1:5601)
  ship a log file   npx sluice logs ship --service my-app /var/log/my-app.log
  the archive       $SLUICE_ROOT/${ARCHIVE_DIR:-.sluice/archive}/logs.app/dt=YYYY-MM-DD/hour=HH/ (Avro files, manifests)
  replay it         npx sluice archive replay logs.app --from $(date -u +%F) --to $(date -u +%F) --into TOPIC
  broadcast config  npx sluice config set KEY VALUE [--expect-version N] | get KEY | history KEY | rollback KEY --to-version N
  alerts received   $SLUICE_ROOT/.sluice/logs/alerts-received.jsonl (the demo's webhook, pid $(cat "$WEBHOOK_PID_FILE"))
  schemas           curl -s ${SCHEMA_REGISTRY_URL:-http://127.0.0.1:8081/apis/ccompat/v7}/subjects
  stack logs        $SLUICE_ROOT/.sluice/logs/
  stop              kill $(cat "$PID_FILE" "$WEBHOOK_PID_FILE" "${SERVICE_PID_FILES[@]}" | tr '\n' ' '); npx sluice stack down
  (npx needs Node 24 on PATH: source ops/toolchain/env.sh)
TXT
