/**
 * Config broadcast propagation: three subscriber processes (as three nodes), UPDATES changes written one after the
 * other through the config store; each change's propagation is the time from the start of its write (PostgreSQL,
 * then Kafka's acknowledgement, then Redis) until a node applied it, over every node and change.
 *
 *   config_p50_ms, config_p99_ms               with the Redis fast path
 *   config_kafka_p50_ms, config_kafka_p99_ms   Kafka alone (the nodes' Redis is a dead address)
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConfigStore } from "../../connectors/config-broadcast/config-store.ts";
import { AvroSerde, CatalogProducer, runtimeConfig } from "../../runtime/index.ts";
import type { TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { configLines, startConfigNode } from "../support/config-nodes.ts";
import { kafka } from "../support/kafka.ts";
import { eventually, registry, schemas } from "../support/runtime.ts";

const UPDATES = Number(process.env.BENCH_CONFIG_UPDATES || 50);

export interface ConfigFigures {
  config_updates: number;
  config_p50_ms: number;
  config_p99_ms: number;
  config_kafka_p50_ms: number;
  config_kafka_p99_ms: number;
}

export async function benchConfig(log: (line: string) => void): Promise<ConfigFigures> {
  const producer = kafka.producer({ lingerMs: 0 });
  await producer.connect();
  const catalog = new CatalogProducer<TopicValues>({
    producer,
    serde: new AvroSerde(registry),
    topics: TOPICS,
    schemas,
  });
  const store = await ConfigStore.connect({
    databaseUrl: runtimeConfig().databaseUrl,
    catalog,
    redisUrl: runtimeConfig().redisUrl,
  });
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-config-"));
  try {
    const fast = await propagation(store, dir, {});
    log(`  config to 3 nodes, Redis fast path: p50 ${fast.p50} ms, p99 ${fast.p99} ms`);
    const slow = await propagation(store, dir, { TEST_CONFIG_REDIS: "none" });
    log(`  config to 3 nodes, Kafka alone: p50 ${slow.p50} ms, p99 ${slow.p99} ms`);
    return {
      config_updates: UPDATES,
      config_p50_ms: fast.p50,
      config_p99_ms: fast.p99,
      config_kafka_p50_ms: slow.p50,
      config_kafka_p99_ms: slow.p99,
    };
  } finally {
    await store.close();
    await producer.disconnect();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function propagation(store: ConfigStore, dir: string, env: NodeJS.ProcessEnv) {
  const key = `bench.config-${randomUUID().slice(0, 8)}`;
  const outs = [0, 1, 2].map((i) => path.join(dir, `${key}-${i}.jsonl`));
  const nodes = await Promise.all(outs.map((out) => startConfigNode(out, env)));
  try {
    const started = new Map<string, number>();
    for (let i = 0; i < UPDATES; i++) {
      const at = Date.now();
      const entry = await store.set(key, `value ${i}`);
      started.set(String(entry.version), at);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const applied = () => outs.flatMap((out) => configLines(out).filter((l) => l.key === key));
    await eventually(() => applied().length >= UPDATES * outs.length, 30_000);
    const latencies = applied()
      .map((l) => (l.at as number) - (started.get(l.version as string) ?? Number.NaN))
      .sort((a, b) => a - b);
    const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
    return { p50: at(0.5), p99: at(0.99) };
  } finally {
    for (const node of nodes) node.process.kill("SIGTERM");
  }
}
