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
  return { kafka, producer, publish, subscriber };
}

/** A subscriber of `kafka`'s config.updates whose registry has ConfigUpdated under the id `setup` used. */
async function setupWith(kafka: MemoryKafka) {
  const registry = new MemoryRegistry();
  await registry.register("config.updates-value", schemas.get("sluice.config.ConfigUpdated")?.text ?? "");
  return {
    subscriber: new ConfigSubscriber({ kafka, serde: new AvroSerde(registry), log: pino({ level: "silent" }) }),
  };
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

  it("skips a record that is not a ConfigUpdated (raw bytes, an unknown schema id), with a warning, and reads on", async () => {
    const { kafka, producer, publish } = await setup();
    const warnings: string[] = [];
    const log = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line).msg) });
    await publish("a", "one", 1n);
    await producer.send([
      {
        topic: "config.updates",
        messages: [
          { key: "junk", value: Buffer.from('{"key":"a","value":"json","version":9}'), headers: [] },
          { key: "junk", value: Buffer.from([0, 0, 0, 0x7f, 0x7f, 1, 2]), headers: [] }, // wire format, no such id
        ],
      },
    ]);
    await publish("a", "two", 2n);
    const subscriber = new ConfigSubscriber({ kafka, serde: new AvroSerde(new MemoryRegistry()), log });
    // A registry without the schema: every record fails to decode, and the node still becomes ready.
    await subscriber.start();
    expect(subscriber.isReady).toBe(true);
    expect(warnings.filter((m) => m === "config record skipped")).toHaveLength(4);
    await subscriber.stop();

    const { subscriber: good } = await setupWith(kafka);
    await good.start();
    expect([good.get("a"), good.version("a")]).toEqual(["two", 2n]); // the good records around the bad ones
    await good.stop();
  });
});
