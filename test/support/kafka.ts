/** Real-broker helpers for integration tests: throwaway topics, raw produce, and consuming until a condition. */
import { randomUUID } from "node:crypto";
import type { RecordHeaders } from "../../processors/runtime/headers.ts";
import {
  type Consumer,
  clientMessage,
  createKafka,
  createProducer,
  type IHeaders,
  recordHeaders,
} from "../../processors/runtime/kafka-client.ts";

export interface RawRecord {
  partition: number;
  offset: string;
  /** The broker's or producer's timestamp, epoch milliseconds. */
  timestamp: string;
  key: string | null;
  value: Buffer | null;
  headers: IHeaders;
  /** The headers as the record carries them: in order, byte for byte. */
  headerList: RecordHeaders;
}

export async function createTestTopic(prefix: string, partitions = 1): Promise<string> {
  const name = `test.${prefix}.${randomUUID().slice(0, 8)}`;
  const admin = createKafka("sluice-test-admin").admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: name, numPartitions: partitions, replicationFactor: 1 }] });
  } finally {
    await admin.disconnect();
  }
  return name;
}

export async function deleteTopics(names: string[]): Promise<void> {
  const admin = createKafka("sluice-test-admin").admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: names });
  } finally {
    await admin.disconnect();
  }
}

/**
 * Produces records as another team's producer would: raw key and value bytes, and raw headers (in order, names
 * repeated, values binary or null), with a record size limit of 1 MiB, as Java's `max.request.size`.
 */
export async function produceRaw(
  topic: string,
  messages: { key: string | Buffer | null; value: Buffer | null; headers?: RecordHeaders }[],
): Promise<void> {
  const producer = createProducer(createKafka("sluice-test-producer"), { "message.max.bytes": 1_048_588 });
  await producer.connect();
  try {
    await producer.send({
      topic,
      messages: messages.map(({ headers = [], ...m }) => clientMessage({ ...m, headers })),
    });
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
  const consumer: Consumer = createKafka("sluice-test-consumer").consumer({
    kafkaJS: { groupId: `sluice-test-${randomUUID()}`, fromBeginning: true, autoCommit: false },
  });
  const records: RawRecord[] = [];
  const { promise, resolve } = Promise.withResolvers<void>();
  const timer = setTimeout(resolve, timeoutMs);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        records.push({
          partition,
          offset: message.offset,
          timestamp: message.timestamp,
          key: message.key?.toString() ?? null,
          value: message.value,
          headers: message.headers ?? {},
          headerList: recordHeaders(message),
        });
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
