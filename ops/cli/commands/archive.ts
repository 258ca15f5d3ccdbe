/**
 * `sluice archive replay <topic> --from DATE --to DATE --into TOPIC`: re-produces a catalog topic's archived
 * records written from DATE to DATE (days, UTC, both included; or exact ISO times) into TOPIC, from the configured
 * archive (ARCHIVE_DIR or ARCHIVE_S3_BUCKET).
 */
import { configuredStore } from "../../../connectors/archive/archive-sink.ts";
import { replayArchive } from "../../../connectors/archive/replay.ts";
import { S3Store } from "../../../connectors/archive/s3-store.ts";
import { AvroSerde, librdkafka, runtimeConfig } from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { UsageError } from "../../../topics/errors.ts";
import { topicByName } from "../../../topics/topic.ts";
import { parse } from "../args.ts";

const USAGE = "usage: sluice archive replay <topic> --from DATE --to DATE --into TOPIC";
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export async function archiveCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "replay")
    throw new UsageError(sub ? `archive: unknown subcommand '${sub}' (${USAGE})` : `archive: ${USAGE}`);
  const { values, positionals } = parse("archive replay", rest, {
    from: { type: "string" },
    to: { type: "string" },
    into: { type: "string" },
  });
  const [name, extra] = positionals;
  if (!name || extra || !values.from || !values.to || !values.into) throw new UsageError(`archive replay: ${USAGE}`);
  const topic = topicByName(name, TOPICS);
  if (!topic) throw new UsageError(`archive replay: unknown topic '${name}' (not in the catalog)`);
  const schema = loadSchemaFiles(runtimeConfig().schemasDir).get(topic.valueSchema);
  if (!schema) throw new UsageError(`archive replay: no schema file for ${topic.valueSchema}`);
  const from = instant("--from", values.from, false);
  const to = instant("--to", values.to, true);
  if (to <= from) throw new UsageError("archive replay: --to must be after --from");

  const config = runtimeConfig();
  const producer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-archive-replay" }).producer({
    lingerMs: 20,
  });
  const store = configuredStore();
  await producer.connect();
  try {
    const { files, records } = await replayArchive({
      store,
      topic: topic.name,
      from,
      to,
      into: values.into,
      schema,
      producer,
      serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
    });
    console.error(`archive replay: ${records} records of ${files} files from ${store.description} into ${values.into}`);
  } finally {
    await producer.disconnect();
    if (store instanceof S3Store) store.close();
  }
  return 0;
}

/** A day (its start; with `end`, the start of the next) or an exact ISO time, in epoch ms. */
function instant(flag: string, value: string, end: boolean): number {
  if (DAY.test(value)) return Date.parse(`${value}T00:00:00Z`) + (end ? 86_400_000 : 0);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UsageError(`archive replay: ${flag} takes a day (2026-11-27) or an ISO time`);
  return ms;
}
