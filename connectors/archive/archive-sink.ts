/**
 * `archive-<topic>`: a topic's records into Avro container files, in a local directory (ARCHIVE_DIR) or an
 * S3-compatible bucket (ARCHIVE_S3_BUCKET), on the runtime's staged sink: a record is committed only once the file
 * holding it is fsynced and published with its manifest (archive-writer.ts).
 */
import path from "node:path";
import { runtimeConfig, type Sink } from "../../runtime/index.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import { TOPICS } from "../../topics/catalog.ts";
import { SluiceError } from "../../topics/errors.ts";
import { type BusinessTopic, topicByName } from "../../topics/topic.ts";
import { type ArchiveSettings, connectorSettings } from "../settings.ts";
import { type ArchiveStore, DirectoryStore } from "./archive-store.ts";
import { ArchiveWriter, type Rotation } from "./archive-writer.ts";
import { S3Store } from "./s3-store.ts";

export interface ArchiveSinkOptions {
  /** The topic to archive (its value schema is the files' value type). */
  topic: Pick<BusinessTopic, "name" | "valueSchema">;
  /** Default: `archive-<topic>` (its group too). */
  name?: string;
  /** Default: the configured target (ARCHIVE_DIR or ARCHIVE_S3_BUCKET). */
  store?: ArchiveStore;
  /** Default: the configured ARCHIVE_ROTATE_* and ARCHIVE_IDLE_FLUSH. */
  rotation?: Partial<Rotation>;
}

/** The configured target: the bucket when ARCHIVE_S3_BUCKET is set (spooling under ARCHIVE_DIR), else the directory. */
export function configuredStore(settings: ArchiveSettings = connectorSettings().archive): ArchiveStore {
  if (!settings.s3) return new DirectoryStore(settings.dir);
  return new S3Store(settings.s3, path.join(settings.dir, ".spool"));
}

/** An archive sink for each topic in ARCHIVE_TOPICS. */
export function archiveSinks(): Sink[] {
  return connectorSettings().archive.topics.map((name) => {
    const topic = topicByName(name, TOPICS);
    if (!topic) throw new SluiceError("TOPIC_UNKNOWN", `ARCHIVE_TOPICS names ${name}, which is not in the catalog`);
    return archiveSink({ topic });
  });
}

export function archiveSink({ topic, name = `archive-${topic.name}`, store, rotation }: ArchiveSinkOptions): Sink {
  let writer: ArchiveWriter | undefined;
  let target: ArchiveStore | undefined;
  const opened = (): ArchiveWriter => {
    if (!writer) throw new SluiceError("NOT_STARTED", `${name} wrote before it was opened`);
    return writer;
  };
  return {
    name,
    input: topic.name,
    // A write appends to open files; a batch only has to be big enough to make appending cheap.
    batching: { maxRecords: 2_000, maxBytes: 4 * 1024 * 1024, linger: "10ms" },
    async open({ log }) {
      target ??= store ?? configuredStore();
      if (target instanceof S3Store) await target.ensureBucket();
      const schema = loadSchemaFiles(runtimeConfig().schemasDir).get(topic.valueSchema);
      if (!schema) throw new SluiceError("SCHEMA_MISSING", `${name}: no schema file for ${topic.valueSchema}`);
      writer ??= new ArchiveWriter(topic.name, JSON.parse(schema.text), target, {
        ...connectorSettings().archive.rotation,
        ...rotation,
      });
      log.info({ archive: target.description }, "archiving");
    },
    async write(records, { clock }) {
      return { failures: [], durable: await opened().take(records, clock.now()) };
    },
    staging: {
      due: ({ clock }) => opened().due(clock.now()),
      flush: (partitions) => opened().flush(partitions.map((p) => p.partition)),
    },
    async close() {
      await writer?.close();
      writer = undefined;
      if (target instanceof S3Store) target.close();
      target = undefined;
    },
  };
}
