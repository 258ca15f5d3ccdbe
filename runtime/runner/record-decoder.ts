/**
 * A read record as its handler gets it, or the permanent reason it cannot be: no value, a value larger than the
 * processor accepts, no event id (a processor's idempotency key), bytes that are not a value of the input's schema.
 */
import type avro from "avsc";
import { PermanentError } from "../failure.ts";
import { HEADER } from "../headers.ts";
import type { InputRecord } from "../processor.ts";
import type { Route } from "../route.ts";
import type { AvroSerde } from "../serde/avro-serde.ts";
import type { ReadRecord } from "./read-record.ts";

/** Values larger than this are refused as VALUE_TOO_LARGE unless the deps say otherwise (1 MiB). */
export const DEFAULT_MAX_VALUE_BYTES = 1_048_576;

export class RecordDecoder {
  private readonly route: Route;
  private readonly serde: AvroSerde;
  /** The input's value schema: records are read as it, whatever schema wrote them. */
  private readonly reader: avro.Type | undefined;
  private readonly maxValueBytes: number;

  /** Whether a record without an event id is refused (a processor's, whose ctx.once keys on it). */
  private readonly eventIdRequired: boolean;

  constructor(
    route: Route,
    serde: AvroSerde,
    reader: avro.Type | undefined,
    maxValueBytes: number,
    eventIdRequired = true,
  ) {
    this.route = route;
    this.serde = serde;
    this.reader = reader;
    this.maxValueBytes = maxValueBytes;
    this.eventIdRequired = eventIdRequired;
  }

  async decode(record: ReadRecord, attempt: number): Promise<InputRecord<unknown>> {
    const { consumed, key, headers } = record;
    if (consumed.value === null) throw new PermanentError("record has no value", "MISSING_VALUE");
    if (consumed.value.length > this.maxValueBytes) {
      throw new PermanentError(
        `value is ${consumed.value.length} bytes, more than the ${this.maxValueBytes} this processor accepts`,
        "VALUE_TOO_LARGE",
      );
    }
    if (this.eventIdRequired && !headers[HEADER.eventId]) {
      throw new PermanentError(`record has no ${HEADER.eventId} header (the idempotency key)`, "MISSING_HEADER");
    }
    const { value } = await this.serde.decode(consumed.value, this.reader);
    return {
      topic: consumed.topic,
      sourceTopic: this.route.input,
      partition: consumed.partition,
      offset: consumed.offset,
      key,
      value,
      headers,
      timestamp: consumed.timestamp,
      attempt,
    };
  }
}
