/**
 * `sluice lag [--group G] [--watch | --serve PORT] [--module FILE]`: each group's lag in records and in seconds, per partition of
 * its input and retry tiers, and its DLQ's depth and age, from the broker's offsets (ops/lag/lag.ts): right for a
 * stopped consumer too. `--watch` prints it again every 5 seconds; `--serve` answers Prometheus on /metrics with the
 * same figures, read at each scrape; both until SIGTERM or SIGINT.
 */
import { createServer } from "node:http";
import client from "prom-client";
import { librdkafka, routeOf, runtimeConfig } from "../../../runtime/index.ts";
import { deployment } from "../../deployment.ts";
import { groupLag, type PartitionLag } from "../../lag/lag.ts";
import { parse, positiveInteger, stopSignal } from "../args.ts";

const WATCH_EVERY_MS = 5_000;

export async function lagCommand(args: string[]): Promise<number> {
  const { values } = parse("lag", args, {
    group: { type: "string" },
    watch: { type: "boolean" },
    serve: { type: "string" },
    module: { type: "string" },
  });
  const routes = (await deployment("lag", values.module)).definitions
    .map(routeOf)
    .filter((r) => !values.group || r.group === values.group);
  const kafka = librdkafka({ brokers: runtimeConfig().kafkaBrokers, clientId: "sluice-lag" });
  const port = positiveInteger("lag", "--serve", values.serve);
  if (port !== undefined) return serve(port, () => groupLag(kafka, routes));
  const stopped = values.watch ? stopSignal() : undefined;
  let stopping = false;
  void stopped?.then(() => {
    stopping = true;
  });
  do {
    print(await groupLag(kafka, routes));
    if (!values.watch) break;
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, WATCH_EVERY_MS))]);
  } while (!stopping);
  return 0;
}

/** One line per group and topic (its partitions summed, the oldest age), the partitions behind listed after it. */
function print(lags: readonly PartitionLag[]): void {
  console.log(`${"group".padEnd(28)} ${"topic".padEnd(44)} ${"records".padStart(9)} ${"seconds".padStart(9)}`);
  for (const [, rows] of Map.groupBy(lags, (l) => `${l.group}\n${l.topic}`)) {
    const [first] = rows;
    if (!first) continue;
    const records = rows.reduce((sum, r) => sum + r.records, 0);
    const seconds = Math.max(...rows.map((r) => r.seconds));
    const label = first.kind === "dlq" ? `${first.topic} (DLQ)` : first.topic;
    console.log(
      `${first.group.padEnd(28)} ${label.padEnd(44)} ${String(records).padStart(9)} ${seconds.toFixed(1).padStart(9)}`,
    );
    for (const r of rows.filter((row) => row.records > 0 && first.kind !== "dlq")) {
      console.log(
        `${"".padEnd(28)}   partition ${String(r.partition).padEnd(30)} ${String(r.records).padStart(9)} ${r.seconds.toFixed(1).padStart(9)}`,
      );
    }
  }
}

/** Prometheus: the lag of every partition, read from the broker when scraped. */
async function serve(port: number, read: () => Promise<PartitionLag[]>): Promise<number> {
  const registry = new client.Registry();
  const labelNames = ["group", "topic", "kind", "partition"] as const;
  const records = new client.Gauge({
    name: "sluice_consumer_lag_records",
    help: "Records not consumed yet per group and partition (kind dlq: records in the DLQ)",
    labelNames,
    registers: [registry],
  });
  const seconds = new client.Gauge({
    name: "sluice_consumer_lag_seconds",
    help: "Age of the oldest record not consumed yet (a retry tier's: since it was due; the DLQ's oldest)",
    labelNames,
    registers: [registry],
  });
  const server = createServer(async (request, response) => {
    if (request.url !== "/metrics") return response.writeHead(404).end();
    try {
      records.reset();
      seconds.reset();
      for (const lag of await read()) {
        const labels = { group: lag.group, topic: lag.topic, kind: lag.kind, partition: String(lag.partition) };
        records.set(labels, lag.records);
        seconds.set(labels, lag.seconds);
      }
      response.writeHead(200, { "content-type": registry.contentType }).end(await registry.metrics());
    } catch (error) {
      response.writeHead(503).end(`lag unavailable: ${(error as Error).message}\n`);
    }
  });
  const host = runtimeConfig().httpHost;
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  console.log(`lag exporter on http://${host}:${port}/metrics`);
  await stopSignal();
  server.close();
  return 0;
}
