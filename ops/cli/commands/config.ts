/**
 * `sluice config set KEY VALUE [--expect-version N] | get KEY | history KEY | rollback KEY --to-version N`: broadcast
 * configuration, written through PostgreSQL's compare-and-set and published to config.updates (and Redis, the fast
 * path), which every `sluice run` node follows.
 */
import { ConfigStore } from "../../../connectors/config-broadcast/config-store.ts";
import { AvroSerde, CatalogProducer, librdkafka, runtimeConfig } from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import type { TopicValues } from "../../../schemas/types.generated.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { UsageError } from "../../../topics/errors.ts";
import { parse } from "../args.ts";

const USAGE =
  "usage: sluice config set KEY VALUE [--expect-version N] | get KEY | history KEY | rollback KEY --to-version N";

export async function configCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parse(`config ${sub}`, rest, {
    "expect-version": { type: "string" },
    "to-version": { type: "string" },
  });
  const [key, value, extra] = positionals;
  const arity = { set: 2, get: 1, history: 1, rollback: 1 }[sub ?? ""];
  if (arity === undefined || !key || positionals.length !== arity || extra !== undefined) {
    throw new UsageError(`config: ${USAGE}`);
  }
  const config = runtimeConfig();
  const producer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-config" }).producer({ lingerMs: 0 });
  await producer.connect();
  const catalog = new CatalogProducer<TopicValues>({
    producer,
    serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
    topics: TOPICS,
    schemas: loadSchemaFiles(config.schemasDir),
  });
  const store = await ConfigStore.connect({ databaseUrl: config.databaseUrl, catalog, redisUrl: config.redisUrl });
  try {
    switch (sub) {
      case "set": {
        const expect = version("--expect-version", values["expect-version"]);
        const entry = await store.set(key, value ?? null, expect);
        console.log(`${key} = ${entry.value} (version ${entry.version})`);
        return 0;
      }
      case "get": {
        const entry = await store.get(key);
        if (!entry) {
          console.error(`${key} is not set`);
          return 1;
        }
        console.log(`${key} = ${entry.value} (version ${entry.version}, ${entry.updatedAt.toISOString()})`);
        return 0;
      }
      case "history":
        for (const entry of await store.history(key)) {
          console.log(`${entry.version}\t${entry.updatedAt.toISOString()}\t${entry.value}`);
        }
        return 0;
      default: {
        const to = version("--to-version", values["to-version"]);
        if (to === undefined) throw new UsageError(`config rollback: --to-version N is required (${USAGE})`);
        const entry = await store.rollback(key, to);
        console.log(`${key} = ${entry.value} (version ${entry.version}, the value of version ${to})`);
        return 0;
      }
    }
  } finally {
    await store.close();
    await producer.disconnect();
  }
}

function version(flag: string, value: string | undefined): bigint | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`config: ${flag} takes a version number, got '${value}'`);
  return BigInt(value);
}
