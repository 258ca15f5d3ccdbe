/**
 * The `ctx` a handler gets with each record. One object per record with its methods on the prototype: a busy
 * processor builds tens of thousands a second, so it allocates no closures, no logger and no AbortController
 * until the handler asks for them.
 */
import type { Logger } from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import type { TopicName, TopicValues } from "../../schemas/types.generated.ts";
import { toMs } from "../../topics/duration.ts";
import type { Clock } from "./clock.ts";
import { DELAY_HEADER, nextHop } from "./delay-plan.ts";
import { SluiceError } from "./errors.ts";
import { childEventId } from "./event-id.ts";
import { PermanentError } from "./failure.ts";
import { HEADER, headerList } from "./headers.ts";
import type { OutgoingMessage } from "./kafka-client.ts";
import type { Ledger, OnceScope } from "./ledger/ledger.ts";
import { recordFields } from "./logger.ts";
import type { OutputBuffer } from "./output-buffer.ts";
import type { Context, InputRecord, ProcessorDefinition, When } from "./processor.ts";
import type { AvroSerde } from "./serde/avro-serde.ts";

/** What every record's context shares: built once per processor. */
export interface ContextEnv {
  definition: ProcessorDefinition;
  serde: AvroSerde;
  clock: Clock;
  ledger: Ledger | undefined;
  log: Logger;
  /** The value schema of an output topic, or undefined when the catalog gives none. */
  outputSchema(topic: TopicName): SchemaFile | undefined;
  /** Whether `message` fits `topic` (its max.message.bytes). */
  fits(topic: string, message: OutgoingMessage): boolean;
}

export class RecordContext implements Context {
  private readonly env: ContextEnv;
  private readonly record: InputRecord<unknown>;
  private readonly out: OutputBuffer;
  private produced = 0;
  private logger: Logger | undefined;
  private controller: AbortController | undefined;

  constructor(env: ContextEnv, record: InputRecord<unknown>, out: OutputBuffer) {
    this.env = env;
    this.record = record;
    this.out = out;
  }

  get log(): Logger {
    this.logger ??= this.env.log.child(recordFields(this.record));
    return this.logger;
  }

  get clock(): Clock {
    return this.env.clock;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** The runtime gave up on the handler: its `signal` aborts with `reason`. */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  async send<T extends TopicName>(
    topic: T,
    key: string,
    value: TopicValues[T],
    headers?: Record<string, string>,
  ): Promise<void> {
    this.write(topic, { key, value: await this.encode(topic, value), headers: this.childHeaders(headers) });
  }

  async schedule<T extends TopicName>(topic: T, key: string, value: TopicValues[T], when: When): Promise<void> {
    const now = this.env.clock.now();
    const dueAt = "at" in when ? when.at : now + (typeof when.delay === "number" ? when.delay : toMs(when.delay));
    const hop = nextHop(dueAt - now, now);
    const message = {
      key,
      value: await this.encode(topic, value),
      headers: this.childHeaders({
        [DELAY_HEADER.target]: topic,
        [HEADER.dueAt]: String(dueAt),
        [DELAY_HEADER.hopDueAt]: String(hop.hopDueAt),
      }),
    };
    this.mustFit(topic, message); // where the router delivers it in the end
    this.write(hop.topic, message);
  }

  async once<R>(key: string, fn: (scope: OnceScope) => Promise<R>): Promise<R | undefined> {
    const { ledger, definition } = this.env;
    if (!ledger) throw new SluiceError("LEDGER_MISSING", `processor ${definition.name} uses ctx.once without a ledger`);
    return (await ledger.once(definition.group, key, fn)).result;
  }

  /** Buffers `message` for `topic`, which it must fit: a record its topic refuses would stall the partition. */
  private write(topic: string, message: OutgoingMessage): void {
    this.mustFit(topic, message);
    this.out.add(topic, message);
  }

  private mustFit(topic: string, message: OutgoingMessage): void {
    if (!this.env.fits(topic, message)) {
      throw new PermanentError(
        `processor ${this.env.definition.name} wrote a record too large for ${topic} (its max.message.bytes)`,
        "OUTPUT_TOO_LARGE",
      );
    }
  }

  private encode(topic: TopicName, value: unknown): Promise<Buffer> {
    const { definition, serde } = this.env;
    if (!definition.outputs.includes(topic)) {
      throw new PermanentError(`processor ${definition.name} does not declare ${topic} among its outputs`);
    }
    const schema = this.env.outputSchema(topic);
    if (!schema) throw new SluiceError("SCHEMA_MISSING", `no value schema for ${topic}`);
    return serde.encode(valueSubject(topic), schema, value);
  }

  /** An output's headers: an event id derived from the input's (the same on every redelivery), its trace id. */
  private childHeaders(extra?: Record<string, string>): OutgoingMessage["headers"] {
    const { headers, topic, offset } = this.record;
    return headerList({
      [HEADER.eventId]: childEventId(headers[HEADER.eventId] ?? `${topic}/${offset}`, this.produced++),
      [HEADER.traceId]: headers[HEADER.traceId] ?? "",
      [HEADER.producedAt]: String(this.env.clock.now()),
      ...extra,
    });
  }
}
