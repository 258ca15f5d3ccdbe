/** Following partitions outside any group, with the client's native consumer and `assign`, until closed. */
import kafkaClient from "@confluentinc/kafka-javascript";
import type { ConsumedRecord, PartitionFollower, PartitionStart } from "../port.ts";
import { type HeaderList, recordHeaders } from "./consumer.ts";

/** librdkafka's RD_KAFKA_OFFSET_BEGINNING. */
const OFFSET_BEGINNING = -2;

export function follow(
  brokers: string[],
  starts: PartitionStart[],
  onRecord: (record: ConsumedRecord) => void,
): PartitionFollower {
  const consumer = new kafkaClient.KafkaConsumer(
    {
      "bootstrap.servers": brokers.join(","),
      "group.id": "sluice-follower", // required by librdkafka; never joined: partitions are assigned directly
      "enable.auto.commit": false,
      "enable.partition.eof": true,
      "isolation.level": "read_committed",
      "fetch.wait.max.ms": 100,
    },
    {},
  );
  const caughtUp = Promise.withResolvers<void>();
  const atEnd = new Set<string>();
  let closed = false;
  const loop = (async () => {
    await new Promise<void>((resolve, reject) => consumer.connect({}, (error) => (error ? reject(error) : resolve())));
    consumer.on("partition.eof", (eof) => atEnd.add(`${eof.topic}/${eof.partition}`));
    consumer.setDefaultConsumeTimeout(100);
    // Hand over what has arrived at once: otherwise each call keeps collecting while records come less than the
    // timeout apart, and a steady trickle of changes would wait for a pause.
    // (The client has it; its type declarations do not.)
    (
      consumer as unknown as { setDefaultIsTimeoutOnlyForFirstMessage(only: boolean): void }
    ).setDefaultIsTimeoutOnlyForFirstMessage(true);
    consumer.assign(
      starts.map((s) => ({
        topic: s.topic,
        partition: s.partition,
        offset: s.offset === undefined ? OFFSET_BEGINNING : Number(s.offset),
      })),
    );
    let ready = false;
    while (!closed) {
      let messages: kafkaClient.Message[];
      try {
        messages = await new Promise<kafkaClient.Message[]>((resolve, reject) =>
          consumer.consume(500, (error, batch) => (error ? reject(error) : resolve(batch))),
        );
      } catch (error) {
        if (!ready) throw error; // the caller hears of it through caughtUp
        await new Promise((resolve) => setTimeout(resolve, 1_000)); // once following, it keeps trying
        continue;
      }
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
      // Caught up once every partition has been at its end, and what came before the end was handed over.
      if (!ready && atEnd.size >= starts.length) {
        ready = true;
        caughtUp.resolve();
      }
    }
  })();
  loop.catch((error) => caughtUp.reject(error));
  return {
    caughtUp: caughtUp.promise,
    async close() {
      closed = true;
      await loop.catch(() => {});
      await new Promise((resolve) => consumer.disconnect(resolve));
    },
  };
}
