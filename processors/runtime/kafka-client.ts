/**
 * The one place that builds Kafka clients. Everything else imports the KafkaJS-style types from here, so the
 * client library can be swapped, and a deterministic test driver can stand in, behind this narrow seam.
 */
import { KafkaJS } from "@confluentinc/kafka-javascript";
import { endpointsFromEnv } from "./endpoints.ts";

export type Kafka = KafkaJS.Kafka;
export type Admin = KafkaJS.Admin;
export type Producer = KafkaJS.Producer;
export type Consumer = KafkaJS.Consumer;
export type IHeaders = KafkaJS.IHeaders;
export type ProducerConfig = KafkaJS.ProducerConstructorConfig;

export function createKafka(clientId: string, brokers = endpointsFromEnv().kafkaBrokers): Kafka {
  return new KafkaJS.Kafka({
    kafkaJS: { clientId, brokers, logLevel: KafkaJS.logLevel.ERROR },
  });
}

/**
 * A producer that places keys where Java clients do (murmur2, not librdkafka's default CRC32), so a key lands
 * on the same partition whichever language produced it. Idempotent by default: retries never duplicate.
 */
export function createProducer(kafka: Kafka, config: ProducerConfig = {}): Producer {
  return kafka.producer({
    partitioner: "murmur2_random",
    ...config,
    kafkaJS: { idempotent: true, ...config.kafkaJS },
  });
}

/**
 * How much a runtime consumer reads ahead, bounded. librdkafka's defaults prefetch 100,000 records per partition
 * (up to 64 MB), and the KafkaJS layer sizes its JS-side cache to 1.5 s of the consumption rate it measured, which
 * after a burst over a backlog is tens of thousands of records on the heap at once. A processor needs only its
 * next batches at hand.
 */
export const BOUNDED_PREFETCH = {
  "js.consumer.max.batch.size": 500,
  "js.consumer.max.cache.size.per.worker.ms": 200,
  "queued.min.messages": 2_000,
  "queued.max.messages.kbytes": 8_192,
} as const;
