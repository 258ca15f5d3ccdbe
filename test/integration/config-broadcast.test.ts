/**
 * Config broadcast on the real PostgreSQL, Kafka and Redis: `sluice config`'s store writes, subscriber processes
 * (as every node runs one) apply.
 */
import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigStore } from "../../connectors/config-broadcast/config-store.ts";
import { AvroSerde, CatalogProducer, ConfigSubscriber, runtimeConfig } from "../../runtime/index.ts";
import type { TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { type ConfigNode, configLines, heldVersion, startConfigNode } from "../support/config-nodes.ts";
import { kafka } from "../support/kafka.ts";
import { eventually, registry, schemas } from "../support/runtime.ts";

const config = runtimeConfig();
const DEAD_REDIS = "redis://127.0.0.1:1";
const dir = mkdtempSync(path.join(tmpdir(), "sluice-config-"));
const producer = kafka.producer({ lingerMs: 0 });
const catalog = new CatalogProducer<TopicValues>({ producer, serde: new AvroSerde(registry), topics: TOPICS, schemas });
let store: ConfigStore;
const children: ChildProcess[] = [];

async function node(out: string): Promise<ConfigNode> {
  const started = await startConfigNode(out);
  children.push(started.process);
  return started;
}

beforeAll(async () => {
  await producer.connect();
  store = await ConfigStore.connect({ databaseUrl: config.databaseUrl, catalog, redisUrl: config.redisUrl });
});

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await store.close();
  await producer.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

describe("config broadcast", () => {
  it("reaches three nodes; one down during three updates converges on restart; an older version is ignored", async () => {
    const key = `feature.checkout-${randomUUID().slice(0, 8)}`;
    const outs = [0, 1, 2].map((i) => path.join(dir, `node-${i}-${key}.jsonl`));
    const nodes = await Promise.all(outs.map((out) => node(out)));
    const first = await store.set(key, "v1");
    for (const out of outs) expect(await eventually(() => heldVersion(out, key) === String(first.version))).toBe(true);

    nodes[2]?.process.kill("SIGKILL");
    let last = first;
    for (const value of ["v2", "v3", "v4"]) last = await store.set(key, value);
    for (const out of outs.slice(0, 2)) {
      expect(await eventually(() => heldVersion(out, key) === String(last.version))).toBe(true);
      // Each node applied each version once, in order (Redis and Kafka both bring it; the second is ignored).
      expect(
        configLines(out)
          .filter((l) => l.key === key)
          .map((l) => l.value),
      ).toEqual(["v1", "v2", "v3", "v4"]);
    }
    await node(outs[2] as string); // restarted: loads the topic before it is ready
    expect(heldVersion(outs[2] as string, key)).toBe(String(last.version));

    // Another writer republishes an older version after the newer one: no node goes back.
    await catalog.send("config.updates", [
      { key, value: "stale", version: first.version, updatedAt: BigInt(Date.now()) },
    ]);
    const marker = await store.set(`${key}.marker`, "after the stale one");
    for (const out of outs) {
      expect(await eventually(() => heldVersion(out, `${key}.marker`) === String(marker.version))).toBe(true);
      expect(heldVersion(out, key)).toBe(String(last.version));
      expect(configLines(out).some((l) => l.key === key && l.value === "stale")).toBe(false);
    }
  }, 120_000);

  it("refuses a write whose expected version is stale, naming the current one", async () => {
    const key = `limits.cart-${randomUUID().slice(0, 8)}`;
    const first = await store.set(key, "10", 0n);
    await expect(store.set(key, "20", 0n)).rejects.toThrow(`${key} is at version ${first.version}, not 0`);
    const second = await store.set(key, "20", first.version);
    expect((await store.get(key))?.value).toBe("20");
    const rolledBack = await store.rollback(key, first.version);
    expect(rolledBack).toMatchObject({ value: "10" });
    expect(rolledBack.version > second.version).toBe(true);
    expect((await store.history(key)).map((e) => e.value)).toEqual(["10", "20", "10"]);
  });

  it("still delivers through Kafka when Redis is down", async () => {
    const key = `no-redis-${randomUUID().slice(0, 8)}`;
    const subscriber = new ConfigSubscriber({
      kafka,
      serde: new AvroSerde(registry),
      log: pino({ level: "silent" }),
      redisUrl: DEAD_REDIS,
    });
    await subscriber.start();
    const noRedis = await ConfigStore.connect({ databaseUrl: config.databaseUrl, catalog, redisUrl: DEAD_REDIS });
    try {
      const vias: string[] = [];
      subscriber.onChange((change) => change.key === key && vias.push(change.via));
      const entry = await noRedis.set(key, "on");
      expect(await eventually(() => subscriber.version(key) === entry.version)).toBe(true);
      expect(subscriber.get(key)).toBe("on");
      expect(vias).toEqual(["kafka"]);
    } finally {
      await noRedis.close();
      await subscriber.stop();
    }
  });
});
