/** Real-broker helpers for tests: the Kafka of the local stack, throwaway topics, raw produce, consuming until. */
import { randomUUID } from "node:crypto";
import {
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  librdkafka,
  type OutgoingHeaders,
  type RecordHeaders,
  runtimeConfig,
  textHeaders,
} from "../../runtime/index.ts";

export const kafka = librdkafka({ brokers: runtimeConfig().kafkaBrokers, clientId: "sluice-test" });

export interface RawRecord {
  topic: string;
  partition: number;
  offset: string;
  /** The broker's or producer's timestamp, epoch milliseconds. */
  timestamp: number;
  key: string | null;
  value: Buffer | null;
  /** The headers as text: the first value of each name. */
  headers: Record<string, string>;
  /** The headers as the record carries them: in order, byte for byte. */
  headerList: RecordHeaders;
}

/** A plain topic (no catalog entry, no schema), created on the cluster. */
export async function createTestTopic(prefix: string, partitions = 1): Promise<string> {
  const name = `test.${prefix}.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics([{ name, partitions, replicationFactor: 1, configs: {} }]);
  } finally {
    await admin.disconnect();
  }
  return name;
}

export async function deleteTopics(names: string[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics(names);
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces records as another team's producer would: raw key and value bytes, and raw headers (in order, names
 * repeated, values binary or null), up to the size the broker accepts by default.
 */
export async function produceRaw(
  topic: string,
  messages: { key: string | Buffer | null; value: Buffer | null; headers?: OutgoingHeaders; partition?: number }[],
): Promise<void> {
  const producer = kafka.producer({ maxMessageBytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES });
  await producer.connect();
  try {
    await producer.send([{ topic, messages: messages.map(({ headers = [], ...m }) => ({ ...m, headers })) }]);
  } finally {
    await producer.disconnect();
  }
}

/**
 * Reads `topic` from the beginning (read_committed) until `done` says so or the timeout passes, then for
 * `settleMs` more (so a late duplicate would still show), and returns what it read.
 */
export async function consumeUntil(
  topic: string,
  done: (records: RawRecord[]) => boolean,
  timeoutMs = 30_000,
  settleMs = 0,
): Promise<RawRecord[]> {
  const consumer = kafka.consumer({ groupId: `sluice-test-${randomUUID()}`, autoCommit: false, readCommitted: true });
  const records: RawRecord[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(resolve, timeoutMs);
  await consumer.connect();
  try {
    await consumer.subscribe([topic]);
    await consumer.run({
      partitionsAtOnce: 1,
      eachBatch: async (batch, control) => {
        for (const record of batch.records) {
          records.push({
            topic: record.topic,
            partition: record.partition,
            offset: record.offset,
            timestamp: record.timestamp,
            key: record.key?.toString() ?? null,
            value: record.value,
            headers: textHeaders(record.headers),
            headerList: record.headers,
          });
          control.resolveOffset(record.offset);
        }
        if (done(records)) setTimeout(resolve, settleMs);
      },
    });
    await promise;
  } finally {
    clearTimeout(timer);
    await consumer.disconnect();
  }
  return records;
}
