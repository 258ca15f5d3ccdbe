/**
 * How both shippers (the pino destination and `logs ship`) write to logs.app: a client that logs nothing of its
 * own (its errors would be shipped by a service that ships its console), lz4, and a delivery timeout, so a send
 * to a Kafka that is down fails and is tried again, and never hangs the shipper.
 */
import {
  AvroSerde,
  CatalogProducer,
  type KafkaPort,
  librdkafka,
  type Producer,
  runtimeConfig,
} from "../../runtime/index.ts";
import { SchemaRegistryClient } from "../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import type { TopicValues } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";

const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_RESEND_DELAY_MS = 5_000;

export interface LogProducer {
  producer: Producer;
  /** Encodes LogEvents and sends them to logs.app, keyed by service. */
  events: CatalogProducer<TopicValues>;
}

/** A producer for logs.app; the configured cluster and registry unless `kafka` and `serde` say otherwise. */
export function logProducer(clientId: string, options: { kafka?: KafkaPort; serde?: AvroSerde } = {}): LogProducer {
  const config = runtimeConfig();
  const kafka = options.kafka ?? librdkafka({ brokers: config.kafkaBrokers, clientId, silent: true });
  const producer = kafka.producer({ lingerMs: 20, compression: "lz4", deliveryTimeoutMs: DELIVERY_TIMEOUT_MS });
  const events = new CatalogProducer<TopicValues>({
    producer,
    serde: options.serde ?? new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
    topics: TOPICS,
    schemas: loadSchemaFiles(config.schemasDir),
  });
  return { producer, events };
}

/** How long to wait before sending again after `failures` failed sends: doubling from 100 ms, up to 5 s. */
export function resendDelayMs(failures: number): number {
  return Math.min(MAX_RESEND_DELAY_MS, 100 * 2 ** failures);
}
