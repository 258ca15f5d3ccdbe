/**
 * A partition of the in-memory broker, with Kafka's transactional visibility: a transaction's records are in the
 * log as soon as they are sent, a read_committed reader stops at the first record of a transaction still open
 * (the last stable offset) and never sees an aborted one, and each commit or abort writes a control record that
 * takes an offset, as Kafka's markers do.
 */
import type { RecordHeaders } from "../headers.ts";

export interface Transaction {
  status: "open" | "committed" | "aborted";
}

export interface StoredRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeaders;
  timestamp: number;
}

interface Entry {
  offset: number;
  record?: StoredRecord;
  /** A record written in a transaction. */
  transaction?: Transaction;
  /** A commit or abort marker: it takes an offset, and no reader sees it. */
  control?: true;
}

export class PartitionLog {
  private readonly entries: Entry[] = [];

  /** The offset the next record will get (the high watermark). */
  get end(): number {
    return this.entries.length;
  }

  append(record: StoredRecord, transaction?: Transaction): number {
    const offset = this.entries.length;
    this.entries.push({ offset, record, ...(transaction ? { transaction } : {}) });
    return offset;
  }

  /** A transaction's commit or abort marker. */
  mark(): void {
    this.entries.push({ offset: this.entries.length, control: true });
  }

  /** The end a reader may read up to: read_committed stops at the first record of an open transaction. */
  stableEnd(readCommitted: boolean): number {
    if (!readCommitted) return this.end;
    const open = this.entries.find((e) => e.transaction?.status === "open");
    return open ? open.offset : this.end;
  }

  /** Up to `max` records a reader sees from `from` on (control records and, read_committed, aborted ones skipped). */
  read(from: number, readCommitted: boolean, max: number): { offset: number; record: StoredRecord }[] {
    const end = this.stableEnd(readCommitted);
    const found: { offset: number; record: StoredRecord }[] = [];
    for (let offset = Math.max(0, from); offset < end && found.length < max; offset++) {
      const entry = this.entries[offset] as Entry;
      if (!entry.record || (readCommitted && entry.transaction?.status === "aborted")) continue;
      found.push({ offset, record: entry.record });
    }
    return found;
  }
}

/** Kafka's default partitioner for a keyed record (Java's murmur2): the partition other languages pick too. */
export function partitionOf(key: Buffer, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  let h = 0x9747b28c ^ data.length;
  const whole = data.length - (data.length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, m);
    k ^= k >>> 24;
    k = Math.imul(k, m);
    h = Math.imul(h, m) ^ k;
  }
  const rest = data.length % 4;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[whole] as number;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h;
}
