import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { ConfigSubscriber } from "../../../runtime/broadcast/config-subscriber.ts";
import { AvroSerde, CatalogProducer } from "../../../runtime/index.ts";
import { MemoryKafka, MemoryRegistry, SimulatedClock } from "../../../runtime/testing/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import type { TopicValues } from "../../../schemas/types.generated.ts";
import { TOPICS } from "../../../topics/catalog.ts";

const schemas = loadSchemaFiles();

async function setup() {
  const kafka = new MemoryKafka(new SimulatedClock(0));
  kafka.createTopic({ name: "config.updates", partitions: 1, replicationFactor: 1, configs: {} });
  const registry = new MemoryRegistry();
  await registry.register("config.updates-value", schemas.get("sluice.config.ConfigUpdated")?.text ?? "");
  const serde = new AvroSerde(registry);
  const producer = kafka.producer();
  const catalog = new CatalogProducer<TopicValues>({ producer, serde, topics: TOPICS, schemas });
  const publish = (key: string, value: string, version: bigint) =>
    catalog.send("config.updates", [{ key, value, version, updatedAt: 0n }]);
  const subscriber = new ConfigSubscriber({ kafka, serde, log: pino({ level: "silent" }) });
  return { kafka, publish, subscriber };
}

describe("config subscriber", () => {
  it("loads what the topic holds before it is ready, then applies only versions higher than it holds", async () => {
    const { kafka, publish, subscriber } = await setup();
    await publish("a", "one", 1n);
    await publish("a", "three", 3n);
    await publish("a", "two (late)", 2n);
    await subscriber.start();
    expect(subscriber.isReady).toBe(true);
    expect([subscriber.get("a"), subscriber.version("a")]).toEqual(["three", 3n]);

    const seen: string[] = [];
    subscriber.onChange((change) => seen.push(`${change.key}=${change.value}@${change.version}`));
    await publish("a", "older", 1n);
    await publish("b", "new key", 4n);
    await publish("a", "four", 5n);
    await kafka.deliver();
    await vi.waitFor(() => expect(seen).toHaveLength(2)); // records are decoded in order, asynchronously
    expect(seen).toEqual(["b=new key@4", "a=four@5"]);
    await subscriber.stop();
  });
});
