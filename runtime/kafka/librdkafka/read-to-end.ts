/** Reading partitions to their end outside any group, with the client's native consumer and `assign`. */
import kafkaClient from "@confluentinc/kafka-javascript";
import { SluiceError } from "../../../topics/errors.ts";
import type { ConsumedRecord, PartitionStart } from "../port.ts";
import { type HeaderList, recordHeaders } from "./consumer.ts";

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING. */
const OFFSET_BEGINNING = -2;

export async function readToEnd(
  brokers: string[],
  starts: PartitionStart[],
  onRecord: (record: ConsumedRecord) => void,
  timeoutMs = 30_000,
): Promise<void> {
  if (starts.length === 0) return;
  const consumer = new kafkaClient.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "group.id": "sluice-reader", // required by librdkafka; never joined: partitions are assigned directly
      "enable.auto.commit": false,
      "enable.partition.eof": true,
      "isolation.level": "read_committed",
    },
    {},
  );
  await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
  try {
    const atEnd = new Set<string>();
    consumer.on("partition.eof", (eof) => atEnd.add(`${eof.topic}/${eof.partition}`));
    consumer.setDefaultConsumeTimeout(100);
    consumer.assign(
      starts.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        offset: s.offset === undefined ? OFFSET_BEGINNING : Number(s.offset),
      })),
    );
    const deadline = Date.now() + timeoutMs;
    while (atEnd.size < starts.length) {
      if (Date.now() > deadline) {
        throw new SluiceError(
          "READ_TIMEOUT",
          `could not read ${starts.length} partitions to their end in ${timeoutMs} ms`,
        );
      }
      const messages = await new Promise<kafkaClient.Message[]>((resolve, reject) =>
        consumer.consume(500, (error, batch) => (error ? reject(error) : resolve(batch))),
      );
      for (const m of messages) {
        onRecord({
          topic: m.topic,
          partition: m.partition,
          offset: String(m.offset),
          key: typeof m.key === "string" ? Buffer.from(m.key) : (m.key ?? null),
          value: m.value ?? null,
          headers: recordHeaders(m.headers as HeaderList | undefined),
          timestamp: m.timestamp ?? 0,
        });
      }
    }
  } finally {
    await new Promise((resolve) => consumer.disconnect(resolve));
  }
}
