/** `sluice tail <topic>`: decoded records as JSON lines, with key, headers and coordinates. */
import { randomUUID } from "node:crypto";
import { AvroSerde, DecodeError, librdkafka, runtimeConfig, textHeaders } from "../../../runtime/index.ts";
import { longToJSON } from "../../../schemas/avro-type.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { UsageError } from "../../../topics/errors.ts";
import { catalogPlan } from "../../topics/catalog-plan.ts";
import { duration, parse, positiveInteger } from "../args.ts";

export async function tailCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("tail", args, {
    "from-beginning": { type: "boolean" },
    max: { type: "string" },
    timeout: { type: "string" },
  });
  const [topic, extra] = positionals;
  if (!topic)
    throw new UsageError("tail: which topic? usage: sluice tail <topic> [--from-beginning] [--max N] [--timeout 30s]");
  if (extra) throw new UsageError(`tail: unexpected argument '${extra}'`);
  if (!catalogPlan().some((p) => p.name === topic)) {
    throw new UsageError(`tail: unknown topic '${topic}' (not in the catalog: see \`sluice topics list\`)`);
  }
  const max = positiveInteger("tail", "--max", values.max);
  const timeoutMs = duration("tail", "--timeout", values.timeout);
  await tail(topic, { fromBeginning: values["from-beginning"] ?? false, max, timeoutMs });
  return 0;
}

interface TailOptions {
  fromBeginning: boolean;
  max?: number | undefined;
  timeoutMs?: number | undefined;
}

async function tail(topic: string, options: TailOptions): Promise<void> {
  const config = runtimeConfig();
  const serde = new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl));
  const consumer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-tail" }).consumer({
    groupId: `sluice-tail-${randomUUID()}`,
    fromBeginning: options.fromBeginning,
    autoCommit: false,
    readCommitted: true,
  });
  let printed = 0;
  const { promise: finished, resolve: finish } = Promise.withResolvers<void>();
  const timer = options.timeoutMs === undefined ? undefined : setTimeout(finish, options.timeoutMs);
  process.once("SIGINT", finish);
  process.once("SIGTERM", finish);
  await consumer.connect();
  try {
    await consumer.subscribe([topic]);
    await consumer.run({
      partitionsAtOnce: 1,
      eachBatch: async ({ records }, control) => {
        for (const record of records) {
          if (options.max !== undefined && printed >= options.max) return;
          const line = {
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp: new Date(record.timestamp).toISOString(),
            key: record.key?.toString("utf8") ?? null,
            headers: textHeaders(record.headers),
            ...(await decodeForDisplay(serde, record.value)),
          };
          process.stdout.write(`${JSON.stringify(line, displayable)}\n`);
          control.resolveOffset(record.offset);
          printed += 1;
          if (options.max !== undefined && printed >= options.max) finish();
        }
      },
    });
    await finished;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
}

async function decodeForDisplay(serde: AvroSerde, value: Buffer | null) {
  if (value === null) return { value: null, tombstone: true };
  try {
    const decoded = await serde.decode(value);
    return { schemaId: decoded.schemaId, value: decoded.value };
  } catch (error) {
    if (!(error instanceof DecodeError)) throw error;
    return { error: { code: error.code, message: error.message }, rawHex: value.subarray(0, 64).toString("hex") };
  }
}

/** Bytes as hex; an Avro long (a bigint) as a number, or as a string where a JSON reader would round it. */
function displayable(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return longToJSON(value);
  if (value && typeof value === "object" && (value as { type?: string }).type === "Buffer") {
    return Buffer.from((value as { data: number[] }).data).toString("hex");
  }
  return value;
}
