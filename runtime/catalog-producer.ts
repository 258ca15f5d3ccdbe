/**
 * Produces typed values to a catalog's topics: the key comes from the topic's key field, the value is Avro-encoded
 * under `<topic>-value`, and each record gets the standard event headers (a fresh event id, a trace id).
 */
import type { SchemaFile } from "../schemas/schema-files.ts";
import { valueSubject } from "../schemas/subjects.ts";
import { SluiceError } from "../topics/errors.ts";
import { type BusinessTopic, topicByName } from "../topics/topic.ts";
import { HEADER, headerList, newEventHeaders } from "./headers.ts";
import type { OutgoingMessage, Producer } from "./kafka/port.ts";
import type { TopicOf } from "./processor.ts";
import type { AvroSerde } from "./serde/avro-serde.ts";

export interface SentRecord {
  key: string;
  eventId: string;
  /** The encoded value's size. */
  valueBytes: number;
}

export interface CatalogProducerOptions {
  producer: Producer;
  serde: AvroSerde;
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
}

export class CatalogProducer<Values extends { [T in keyof Values]: object }> {
  private readonly options: CatalogProducerOptions;

  constructor(options: CatalogProducerOptions) {
    this.options = options;
  }

  /** Encodes and sends `values` to `topic` in one request; resolves once all are acknowledged. */
  async send<T extends TopicOf<Values>>(
    topic: T,
    values: readonly Values[T][],
    options: {
      traceId?: string;
      partition?: number;
      /** The records' event ids, one per value, when the producer derives them (so that a resend repeats them). */
      eventIds?: readonly string[];
    } = {},
  ): Promise<SentRecord[]> {
    const { serde, producer, topics, schemas } = this.options;
    const spec = topicByName(topic, topics);
    const schema = spec && schemas.get(spec.valueSchema);
    if (!spec || !schema) throw new SluiceError("TOPIC_UNKNOWN", `${topic} is not a catalog topic with a schema`);
    const messages = await Promise.all(
      values.map(async (value, i): Promise<OutgoingMessage & { eventId: string }> => {
        const headers = newEventHeaders(Date.now(), options.traceId);
        const eventId = options.eventIds?.[i];
        if (eventId) headers[HEADER.eventId] = eventId;
        return {
          key: String(Reflect.get(value, spec.key)),
          value: await serde.encode(valueSubject(topic), schema, value),
          headers: headerList(headers),
          eventId: headers[HEADER.eventId] ?? "",
          ...(options.partition === undefined ? {} : { partition: options.partition }),
        };
      }),
    );
    await producer.send([{ topic, messages }]);
    return messages.map((m) => ({ key: String(m.key), eventId: m.eventId, valueBytes: m.value?.length ?? 0 }));
  }
}
