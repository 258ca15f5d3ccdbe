/**
 * Re-produces archived records: those of `topic` whose timestamp lies in [from, to), read from the archive's files
 * in partition and offset order, into a topic, with their keys (so the same key lands in one partition, in order),
 * headers (the event id too, so consumers that deduplicate by it recognise a record they already handled) and
 * timestamps. Values are encoded with the target topic's registered schema.
 */
import type { AvroSerde, Producer, WriterSchema } from "../../runtime/index.ts";
import { headerList } from "../../runtime/index.ts";
import type { ArchiveStore } from "./archive-store.ts";
import { readContainer } from "./avro-container.ts";

const SEND_BATCH = 1_000;

export interface ReplayRequest {
  store: ArchiveStore;
  topic: string;
  /** Epoch ms, inclusive. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  into: string;
  /** The schema the target topic's values are registered with (under `<into>-value`). */
  schema: WriterSchema;
  producer: Producer;
  serde: AvroSerde;
}

interface ArchivedRecord {
  offset: bigint;
  timestamp: bigint;
  key: string;
  headers: Record<string, string>;
  value: unknown;
}

export async function replayArchive(request: ReplayRequest): Promise<{ files: number; records: number }> {
  const { store, topic, from, to, into, schema, producer, serde } = request;
  const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  const manifests = (await store.manifests(topic, day(from), day(to - 1))).filter(
    (m) => m.lastTimestamp >= from && m.firstTimestamp < to,
  );
  let records = 0;
  for (const manifest of manifests) {
    const file = await readContainer(await store.read(manifest.file));
    const chosen = (file.records as ArchivedRecord[]).filter(
      (r) => Number(r.timestamp) >= from && Number(r.timestamp) < to,
    );
    for (let start = 0; start < chosen.length; start += SEND_BATCH) {
      const messages = await Promise.all(
        chosen.slice(start, start + SEND_BATCH).map(async (r) => ({
          key: r.key,
          value: await serde.encode(`${into}-value`, schema, r.value),
          headers: headerList(r.headers),
          timestamp: Number(r.timestamp),
        })),
      );
      await producer.send([{ topic: into, messages }]);
    }
    records += chosen.length;
  }
  return { files: manifests.length, records };
}
