/**
 * Produces typed values to catalog topics: the key comes from the topic's key field, the value is Avro-encoded
 * under `<topic>-value`, and each record gets the standard event headers.
 */

import { loadSchemaFiles, type SchemaFile } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { TopicName, TopicValues } from "../../schemas/types.generated.ts";
import { topicByName } from "../../topics/catalog.ts";
import { SluiceError } from "./errors.ts";
import { HEADER, newEventHeaders } from "./headers.ts";
import type { Producer } from "./kafka-client.ts";
import type { AvroSerde } from "./serde/avro-serde.ts";

export interface SentRecord {
  key: string;
  eventId: string;
}

export class CatalogProducer {
  private readonly producer: Producer;
  private readonly serde: AvroSerde;
  private readonly schemas: Map<string, SchemaFile>;

  constructor(producer: Producer, serde: AvroSerde, schemas = loadSchemaFiles()) {
    this.producer = producer;
    this.serde = serde;
    this.schemas = schemas;
  }

  async send<T extends TopicName>(
    topic: T,
    values: readonly TopicValues[T][],
    traceId?: string,
  ): Promise<SentRecord[]> {
    const spec = topicByName(topic);
    const schema = spec && this.schemas.get(spec.valueSchema);
    if (!spec || !schema) throw new SluiceError("TOPIC_UNKNOWN", `${topic} is not a catalog topic with a schema`);
    const messages = await Promise.all(
      values.map(async (value) => ({
        key: String((value as unknown as Record<string, unknown>)[spec.key]),
        value: await this.serde.encode(valueSubject(topic), schema, value),
        headers: newEventHeaders(Date.now(), traceId),
      })),
    );
    // Read the ids before sending: the client rewrites each message's headers in place.
    const sent = messages.map((m) => ({ key: m.key, eventId: m.headers[HEADER.eventId] ?? "" }));
    await this.producer.send({ topic, messages });
    return sent;
  }
}
