/** The port's producer: idempotent, keys placed as Java clients place them, transactions with a consumer's offsets. */
import type { KafkaJS } from "@confluentinc/kafka-javascript";
import { SluiceError } from "../../../topics/errors.ts";
import type { OutgoingMessage, Producer, ProducerConfig, TopicMessages, Transaction } from "../port.ts";
import { LibrdkafkaConsumer } from "./consumer.ts";

export class LibrdkafkaProducer implements Producer {
  private readonly client: KafkaJS.Producer;

  constructor(kafka: KafkaJS.Kafka, config: ProducerConfig = {}) {
    const transactional = config.transactionalId !== undefined;
    this.client = kafka.producer({
      // Keys land where Java clients put them (murmur2, not librdkafka's CRC32), whichever language produced them.
      partitioner: "murmur2_random",
      ...(config.lingerMs === undefined ? {} : { "linger.ms": config.lingerMs }),
      ...(config.maxMessageBytes === undefined ? {} : { "message.max.bytes": config.maxMessageBytes }),
      ...(config.batchBytes === undefined ? {} : { "batch.size": config.batchBytes }),
      ...(config.compression === undefined ? {} : { "compression.type": config.compression }),
      ...(config.deliveryTimeoutMs === undefined ? {} : { "message.timeout.ms": config.deliveryTimeoutMs }),
      ...(config.transactionTimeoutMs === undefined
        ? {}
        : { "transaction.timeout.ms": config.transactionTimeoutMs, "socket.timeout.ms": config.transactionTimeoutMs }),
      // Idempotent always: a retried request never writes a record twice.
      kafkaJS: transactional
        ? { transactionalId: config.transactionalId, idempotent: true, maxInFlightRequests: 1 }
        : { idempotent: true },
    });
  }

  connect(): Promise<void> {
    return this.client.connect();
  }

  async send(batches: TopicMessages[]): Promise<void> {
    if (batches.length > 0) await this.client.sendBatch({ topicMessages: batches.map(clientBatch) });
  }

  async transaction(): Promise<Transaction> {
    const transaction = await this.client.transaction();
    return {
      send: async (batches) => {
        for (const batch of batches) await transaction.send(clientBatch(batch));
      },
      sendOffsets: async (consumer, offsets) => {
        if (!(consumer instanceof LibrdkafkaConsumer)) {
          throw new SluiceError("CONFIG_INVALID", "a transaction commits offsets of a consumer of the same Kafka only");
        }
        const topics = new Map<string, { partition: number; offset: string }[]>();
        for (const { topic, partition, offset } of offsets) {
          const partitions = topics.get(topic) ?? [];
          partitions.push({ partition, offset });
          topics.set(topic, partitions);
        }
        await transaction.sendOffsets({
          consumer: consumer.client,
          topics: [...topics].map(([topic, partitions]) => ({ topic, partitions })),
        });
      },
      commit: async () => {
        await transaction.commit();
      },
      abort: async () => {
        await transaction.abort();
      },
    };
  }

  disconnect(): Promise<void> {
    return this.client.disconnect();
  }
}

function clientBatch({ topic, messages }: TopicMessages): KafkaJS.TopicMessages {
  return { topic, messages: messages.map(clientMessage) };
}

/** A record in the client's form. Its type says headers are an object; the patched client also takes the list. */
function clientMessage(message: OutgoingMessage): KafkaJS.Message {
  return {
    key: message.key,
    value: message.value,
    headers: message.headers.map(([name, value]) => ({ [name]: value })) as unknown as KafkaJS.IHeaders,
    ...(message.partition === undefined ? {} : { partition: message.partition }),
    ...(message.timestamp === undefined ? {} : { timestamp: String(message.timestamp) }),
  };
}
