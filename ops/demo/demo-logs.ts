/**
 * The log pipeline in the demo: a web shop service logs a burst through the log shipper (one in twenty lines an
 * error with its HTTP status), and the log sink indexes them into the day's Elasticsearch index. Prints what was
 * shipped, what Elasticsearch finds for the service once indexed, the archive files that hold its lines (the
 * archive sink finishes a file once idle: ARCHIVE_IDLE_FLUSH), and the alert its errors raised, as the demo's
 * webhook receiver got it.
 */
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino from "pino";
import { configuredStore } from "../../connectors/archive/archive-sink.ts";
import { readContainer } from "../../connectors/archive/avro-container.ts";
import { LOG_INDEX_PATTERN, logIndexOf } from "../../connectors/elasticsearch/log-document.ts";
import { elasticsearchClient } from "../../connectors/elasticsearch/log-sink.ts";
import { LogShipper } from "../../connectors/log-shipper/log-shipper.ts";
import { integerVar } from "../../runtime/index.ts";
import { RECEIVED } from "./demo-webhook-file.ts";

const LINES = integerVar(process.env, "SLUICE_DEMO_LOG_LINES", 2_000);
const service = `shop-web-${randomUUID().slice(0, 4)}`;
const started = Date.now();
const shipper = new LogShipper({ service });
const log = pino({ ...ecsFormat(), name: "http" }, shipper);
for (let i = 0; i < LINES; i++) {
  const path = `/cart/${i % 50}`;
  if (i % 20 === 0) {
    log.error(
      { "http.response.status_code": 502, "url.path": path, "trace.id": randomUUID() },
      "payment gateway timed out",
    );
  } else {
    log.info({ "http.response.status_code": 200, "url.path": path }, "request served");
  }
}
const shipped = await shipper.close(30_000);
console.log(
  `[logs] ${service} logged ${LINES} lines: ${shipped.shipped} shipped to logs.app, ${shipped.dropped} dropped`,
);

const es = elasticsearchClient();
const query = { term: { "service.name": service } };
let found = 0;
for (let waited = 0; waited < 60_000 && found < shipped.shipped; waited += 500) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  await es.indices.refresh({ index: LOG_INDEX_PATTERN, allow_no_indices: true });
  found = (await es.count({ index: LOG_INDEX_PATTERN, allow_no_indices: true, query })).count;
}
const errors = await es.count({
  index: LOG_INDEX_PATTERN,
  query: { bool: { filter: [query, { term: { "log.level": "error" } }] } },
});
await es.close();
console.log(`[logs] Elasticsearch ${logIndexOf(Date.now())}: ${found} documents of ${service}, ${errors.count} errors`);
if (found < shipped.shipped) {
  console.log("[logs] not all indexed yet: is the log-sink running? see .sluice/logs/processors.log");
  process.exitCode = 1;
}

// The archive sink writes the same lines into Avro files, one per partition, finished once idle.
const archive = configuredStore();
const today = new Date().toISOString().slice(0, 10);
const files = new Set<string>();
let archived = 0;
for (let waited = 0; waited < 60_000 && archived < shipped.shipped; waited += 1_000) {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  for (const manifest of await archive.manifests("logs.app", today, today)) {
    if (files.has(manifest.file) || manifest.lastTimestamp < started) continue;
    const { records } = await readContainer(await archive.read(manifest.file));
    const ours = records.filter((r) => (r as { value: { appId: string } }).value.appId === service).length;
    if (ours > 0) files.add(manifest.file);
    archived += ours;
  }
}
console.log(`[archive] ${archived} lines of ${service} in ${files.size} Avro file(s) under ${archive.description}:`);
for (const file of files) console.log(`[archive]   ${file} (+ .manifest.json)`);
if (archived < shipped.shipped) {
  console.log("[archive] not all archived yet: is archive-logs.app running? see .sluice/logs/processors.log");
  process.exitCode = 1;
}

// Its errors pass the errors-per-service rule: the alert reaches the demo's webhook receiver.
let delivered: { alert: { alertId: string; severity: string; summary: string } } | undefined;
for (let waited = 0; waited < 60_000 && !delivered; waited += 500) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  const lines = existsSync(RECEIVED) ? readFileSync(RECEIVED, "utf8").trim().split("\n") : [];
  delivered = lines
    .filter(Boolean)
    .map((line) => JSON.parse(line))
    .find((r) => r.alert.source === service && r.alert.details.status === "firing");
}
if (delivered) {
  console.log(
    `[alerts] delivered to the webhook: [${delivered.alert.severity}] ${delivered.alert.summary} (${delivered.alert.alertId})`,
  );
} else {
  console.log("[alerts] no alert reached the webhook within 60s: see .sluice/logs/processors.log");
  process.exitCode = 1;
}
