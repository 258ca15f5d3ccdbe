/**
 * A node's config subscriber as its own process, for the broadcast tests: TEST_CONFIG_OUT names a file that gets a
 * JSON line when it is loaded (the versions it holds) and one per change it applies; TEST_CONFIG_REDIS overrides
 * the fast path's Redis (a dead address: Kafka alone).
 */
import { appendFileSync } from "node:fs";
import pino from "pino";
import { AvroSerde, ConfigSubscriber, librdkafka, runtimeConfig } from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";

const config = runtimeConfig();
const out = process.env.TEST_CONFIG_OUT ?? "";
const subscriber = new ConfigSubscriber({
  kafka: librdkafka({ brokers: config.kafkaBrokers, clientId: "test-config-subscriber", silent: true }),
  serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
  log: pino({ level: "error" }),
  redisUrl: process.env.TEST_CONFIG_REDIS === "none" ? undefined : (process.env.TEST_CONFIG_REDIS ?? config.redisUrl),
});
await subscriber.start();
const line = (entry: object) => appendFileSync(out, `${JSON.stringify(entry)}\n`);
subscriber.onChange(({ key, value, version, via }) =>
  line({ key, value, version: String(version), via, at: Date.now() }),
);
line({ loaded: Object.fromEntries([...subscriber.all()].map(([key, change]) => [key, String(change.version)])) });
process.once("SIGTERM", () => {
  subscriber.stop().finally(() => process.exit(0));
});
