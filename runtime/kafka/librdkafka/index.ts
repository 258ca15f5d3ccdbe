/**
 * The Kafka port on a real cluster: @confluentinc/kafka-javascript (librdkafka) through its KafkaJS-style API, its
 * native consumer to read partitions outside a group, and kafkajs for the topic configs and partitions librdkafka's
 * KafkaJS-style admin cannot read or change. This folder is the only place that imports a Kafka client.
 */
import kafkaClient, { KafkaJS } from "@confluentinc/kafka-javascript";
import type { KafkaPort } from "../port.ts";
import { LibrdkafkaAdmin, type LibrdkafkaOptions } from "./admin.ts";
import { LibrdkafkaConsumer } from "./consumer.ts";
import { follow } from "./follow.ts";
import { LibrdkafkaProducer } from "./producer.ts";
import { readToEnd } from "./read-to-end.ts";

export type { LibrdkafkaOptions };

/** The librdkafka this client was built with: its version and features (codecs, TLS, SASL). */
export function librdkafkaBuild(): { version: string; features: readonly string[] } {
  return { version: kafkaClient.librdkafkaVersion, features: kafkaClient.features };
}

export function librdkafka(options: LibrdkafkaOptions): KafkaPort {
  const kafka = new KafkaJS.Kafka({
    kafkaJS: {
      clientId: options.clientId,
      brokers: options.brokers,
      logLevel: options.silent ? KafkaJS.logLevel.NOTHING : KafkaJS.logLevel.ERROR,
    },
  });
  return {
    consumer: (config) => new LibrdkafkaConsumer(kafka, config),
    producer: (config) => new LibrdkafkaProducer(kafka, config),
    admin: () => new LibrdkafkaAdmin(kafka, options),
    readToEnd: (starts, onRecord) => readToEnd(options.brokers, starts, onRecord),
    follow: (starts, onRecord) => follow(options.brokers, starts, onRecord),
  };
}
