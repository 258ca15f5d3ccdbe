/**
 * The transactional outbox's writing side: `outbox.publish(tx, topic, key, value)` inside the caller's own
 * PostgreSQL transaction, beside its business rows, so the rows and the event commit together or not at all. The
 * value is checked and encoded against the topic's schema there and then: a bad event fails the business
 * transaction, not the relay later. Writers of one key are serialised by a transaction-level advisory lock taken
 * before the insert, so a later writer of the key gets a higher id only once the earlier one has committed: the
 * relay, publishing in id order, keeps each key's events in commit order.
 *
 * An event larger than its topic takes is refused here too (VALUE_TOO_LARGE): once in the outbox, it could only be
 * refused by Kafka later, after the business transaction had committed.
 */
import {
  type AvroSerde,
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  HEADER,
  headerList,
  newEventHeaders,
  type Queryable,
  recordBytes,
} from "../../runtime/index.ts";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { SluiceError } from "../../topics/errors.ts";
import { type BusinessTopic, topicByName } from "../../topics/topic.ts";

export const OUTBOX_CHANNEL = "sluice_outbox";

export interface OutboxOptions {
  serde: AvroSerde;
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
}

export class Outbox {
  private readonly options: OutboxOptions;

  constructor(options: OutboxOptions) {
    this.options = options;
  }

  /** Adds the event to `tx`; returns its event id (the outbox row's). Commits and rolls back with `tx`. */
  /** `tx`: a client between the caller's BEGIN and COMMIT. */
  async publish(tx: Queryable, topic: string, key: string, value: object, traceId?: string): Promise<string> {
    const spec = topicByName(topic, this.options.topics);
    const schema = spec && this.options.schemas.get(spec.valueSchema);
    if (!schema) throw new SluiceError("TOPIC_UNKNOWN", `${topic} is not a catalog topic with a schema`);
    const encoded = await this.options.serde.encode(`${topic}-value`, schema, value);
    // The row's own id is the event id: the relay adds the header.
    const { [HEADER.eventId]: eventId, ...headers } = newEventHeaders(Date.now(), traceId);
    const bytes = recordBytes({
      key,
      value: encoded,
      headers: headerList({ [HEADER.eventId]: eventId ?? "", ...headers }),
    });
    if (bytes > BROKER_DEFAULT_MAX_MESSAGE_BYTES) {
      throw new SluiceError(
        "VALUE_TOO_LARGE",
        `an event of ${bytes} bytes is larger than ${topic} takes (${BROKER_DEFAULT_MAX_MESSAGE_BYTES} bytes)`,
      );
    }
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`${topic}/${key}`]);
    const { rows } = await tx.query<{ event_id: string }>(
      "INSERT INTO sluice_outbox (topic, key, value, headers) VALUES ($1, $2, $3, $4) RETURNING event_id",
      [topic, key, encoded, headers],
    );
    await tx.query("SELECT pg_notify($1, '')", [OUTBOX_CHANNEL]);
    return (rows[0] as { event_id: string }).event_id;
  }
}
