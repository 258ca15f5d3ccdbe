/**
 * Writes a topic's records into archive files, one open file per partition: records are encoded into the file's
 * schema (an envelope of offset, timestamp, key, headers and the value as the topic's schema), gathered into
 * blocks of about 64 KiB and appended to a spool file at known positions. A file is finished when it reaches the
 * record or byte limit, when the next record belongs to another hour or schema, or lies the interval past its
 * first, when nothing came for the idle time, and when its partition is revoked: its last block appended, fsynced,
 * published with its manifest, and only then reported durable (and committed by the sink runner).
 *
 * Every rotation that the records decide (count, bytes, hour, schema, interval) falls at the same record on every
 * run, and a file's name is its first record's offset, so a partition read again after a crash rewrites the same
 * files. A file published and not committed before a crash is found by its manifest and not written twice.
 */
import { type FileHandle, open, readdir, rm } from "node:fs/promises";
import path from "node:path";
import type avro from "avsc";
import { crashPoint, type SinkRecord, type TopicPartitionOffset } from "../../runtime/index.ts";
import { avroType } from "../../schemas/avro-type.ts";
import { type ArchiveManifest, type ArchiveStore, archiveFileKey } from "./archive-store.ts";
import { containerBlock, containerHeader, syncMarker } from "./avro-container.ts";

const HOUR_MS = 3_600_000;
/** Records are appended in blocks of about this many bytes (before compression). */
const BLOCK_BYTES = 64 * 1024;

export interface Rotation {
  maxRecords: number;
  /** Of encoded records, before compression. */
  maxBytes: number;
  /** Of record time from a file's first record. */
  intervalMs: number;
  /** Of wall time without a record. */
  idleMs: number;
}

interface OpenFile {
  manifest: ArchiveManifest;
  spool: string;
  sync: Buffer;
  /** Open while records are appended; closed once the file is fsynced. */
  handle: FileHandle | undefined;
  length: number;
  pending: Buffer[];
  pendingBytes: number;
  /** Of encoded records. */
  recordBytes: number;
  touchedAt: number;
}

interface PartitionState {
  file?: OpenFile;
  /** The last offset taken (into a file, or found in a published one): a record up to it is skipped. */
  lastTaken?: bigint;
}

export function envelopeSchema(valueSchema: avro.Schema): avro.Schema {
  return {
    type: "record",
    name: "sluice.archive.ArchivedRecord",
    fields: [
      { name: "offset", type: "long" },
      { name: "timestamp", type: "long" },
      { name: "key", type: "string" },
      { name: "headers", type: { type: "map", values: "string" } },
      { name: "value", type: valueSchema },
    ],
  } as avro.Schema;
}

export class ArchiveWriter {
  private readonly topic: string;
  private readonly store: ArchiveStore;
  private readonly rotation: Rotation;
  private readonly schema: string;
  private readonly type: avro.Type;
  private readonly partitions = new Map<number, PartitionState>();

  constructor(topic: string, valueSchema: avro.Schema, store: ArchiveStore, rotation: Rotation) {
    this.topic = topic;
    this.store = store;
    this.rotation = rotation;
    const envelope = envelopeSchema(valueSchema);
    this.schema = JSON.stringify(envelope);
    this.type = avroType(envelope);
  }

  /** Takes records (skipping those taken before); returns the partitions whose records became durable. */
  async take(records: SinkRecord<unknown>[], now: number): Promise<TopicPartitionOffset[]> {
    const durable: TopicPartitionOffset[] = [];
    for (const record of records) {
      const state = this.state(record.partition);
      const offset = BigInt(record.offset);
      if (state.lastTaken !== undefined && offset <= state.lastTaken) continue;
      // A file whose finishing failed (no longer open) is finished before anything else.
      if (state.file && (!state.file.handle || !this.fits(state.file, record))) {
        durable.push(await this.finish(state.file, state));
      }
      if (!state.file) {
        const file = archiveFileKey(this.topic, record.partition, record.offset, record.timestamp);
        const published = await this.store.manifest(file);
        if (published) {
          // Finished before a crash and not committed: the partition goes on after it.
          state.lastTaken = BigInt(published.endOffset);
          durable.push(this.position(published));
          continue;
        }
        state.file = await this.create(file, record, now);
      }
      this.add(state.file, record, now);
      state.lastTaken = offset;
      if (state.file.pendingBytes >= BLOCK_BYTES) await this.append(state.file);
      const { manifest, recordBytes } = state.file;
      if (manifest.count >= this.rotation.maxRecords || recordBytes >= this.rotation.maxBytes) {
        durable.push(await this.finish(state.file, state));
      }
    }
    return durable;
  }

  /** Finishes the files that had no record for the idle time. */
  async due(now: number): Promise<TopicPartitionOffset[]> {
    const durable: TopicPartitionOffset[] = [];
    for (const state of this.partitions.values()) {
      if (state.file && now - state.file.touchedAt >= this.rotation.idleMs) {
        durable.push(await this.finish(state.file, state));
      }
    }
    return durable;
  }

  /** Finishes these partitions' files and forgets the partitions, finished or not (they are revoked). */
  async flush(partitions: number[]): Promise<TopicPartitionOffset[]> {
    const durable: TopicPartitionOffset[] = [];
    try {
      for (const partition of partitions) {
        const state = this.partitions.get(partition);
        if (state?.file) durable.push(await this.finish(state.file, state));
      }
    } finally {
      for (const partition of partitions) {
        await this.partitions.get(partition)?.file?.handle?.close();
        this.partitions.delete(partition);
      }
    }
    return durable;
  }

  /** Closes the open files without finishing them: their records are read again. */
  async close(): Promise<void> {
    for (const state of this.partitions.values()) await state.file?.handle?.close();
    this.partitions.clear();
  }

  private state(partition: number): PartitionState {
    let state = this.partitions.get(partition);
    if (!state) {
      state = {};
      this.partitions.set(partition, state);
    }
    return state;
  }

  /** Whether the record belongs in the file: the same hour and schema, within the interval of its first record. */
  private fits(file: OpenFile, record: SinkRecord<unknown>): boolean {
    const { manifest } = file;
    return (
      record.schemaId === manifest.schemaId &&
      // The file's directory is its first record's UTC hour (dt=, hour=), and UTC hours are whole hours of epoch time.
      Math.floor(record.timestamp / HOUR_MS) === Math.floor(manifest.firstTimestamp / HOUR_MS) &&
      record.timestamp - manifest.firstTimestamp < this.rotation.intervalMs
    );
  }

  private async create(file: string, record: SinkRecord<unknown>, now: number): Promise<OpenFile> {
    const spool = path.join(this.store.spoolDir, path.basename(file));
    await this.removeStaleSpools(record.partition);
    const sync = syncMarker(path.basename(file));
    const header = containerHeader(this.schema, sync);
    const handle = await open(spool, "w");
    await handle.write(header, 0, header.length, 0);
    return {
      manifest: {
        file,
        topic: this.topic,
        partition: record.partition,
        startOffset: record.offset,
        endOffset: record.offset,
        count: 0,
        schemaId: record.schemaId,
        firstTimestamp: record.timestamp,
        lastTimestamp: record.timestamp,
        bytes: 0,
      },
      spool,
      sync,
      handle,
      length: header.length,
      pending: [],
      pendingBytes: 0,
      recordBytes: 0,
      touchedAt: now,
    };
  }

  /** Spool files of the partition left by a crash (this member owns the partition, so none is in use). */
  private async removeStaleSpools(partition: number): Promise<void> {
    const prefix = `${this.topic}+${partition}+`;
    for (const name of await readdir(this.store.spoolDir)) {
      if (name.startsWith(prefix)) await rm(path.join(this.store.spoolDir, name), { force: true });
    }
  }

  private add(file: OpenFile, record: SinkRecord<unknown>, now: number): void {
    const encoded = this.type.toBuffer({
      offset: BigInt(record.offset),
      timestamp: record.timestamp,
      key: record.key,
      headers: record.headers,
      value: record.value,
    });
    file.pending.push(encoded);
    file.pendingBytes += encoded.length;
    file.recordBytes += encoded.length;
    file.touchedAt = now;
    const { manifest } = file;
    manifest.count++;
    manifest.endOffset = record.offset;
    manifest.lastTimestamp = record.timestamp;
  }

  /** Appends the pending records as a block, where the last one ended (a failed append is written over). */
  private async append(file: OpenFile): Promise<void> {
    if (file.pending.length === 0 || !file.handle) return;
    const block = await containerBlock(file.pending, file.sync);
    await file.handle.write(block, 0, block.length, file.length);
    file.length += block.length;
    file.pending = [];
    file.pendingBytes = 0;
    crashPoint("archive.writing");
  }

  /** Appends, fsyncs and publishes the file; tried again from where it failed when a step fails. */
  private async finish(file: OpenFile, state: PartitionState): Promise<TopicPartitionOffset> {
    if (file.handle) {
      await this.append(file);
      await file.handle.truncate(file.length);
      await file.handle.sync();
      await file.handle.close();
      file.handle = undefined;
      crashPoint("archive.fsynced");
    }
    file.manifest.bytes = file.length;
    await this.store.publish(file.spool, file.manifest);
    crashPoint("archive.published");
    state.file = undefined;
    return this.position(file.manifest);
  }

  private position(manifest: ArchiveManifest): TopicPartitionOffset {
    return { topic: manifest.topic, partition: manifest.partition, offset: manifest.endOffset };
  }
}
