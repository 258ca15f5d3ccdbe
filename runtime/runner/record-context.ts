/**
 * The `ctx` a handler gets with each record. One object per record with its methods on the prototype: a busy
 * processor builds tens of thousands a second, so it allocates no closures, no logger and no AbortController
 * until the handler asks for them.
 */
import type { Logger } from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import { toMs } from "../../topics/duration.ts";
import { SluiceError } from "../../topics/errors.ts";
import type { Clock } from "../clock.ts";
import { DELAY_HEADER, nextHop } from "../delay/delay-plan.ts";
import { childEventId } from "../event-id.ts";
import { PermanentError } from "../failure.ts";
import { HEADER, headerList, type OutgoingHeaders } from "../headers.ts";
import type { OutgoingMessage } from "../kafka/port.ts";
import type { Ledger, OnceScope } from "../ledger/ledger.ts";
import { kafkaFields } from "../logger.ts";
import type { OutputBuffer } from "../output-buffer.ts";
import type { ConfigView, InputRecord, RuntimeContext, When } from "../processor.ts";
import type { Route } from "../route.ts";
import type { AvroSerde } from "../serde/avro-serde.ts";

/** What every record's context shares: built once per processor. */
export interface ContextEnv {
  route: Route;
  serde: AvroSerde;
  clock: Clock;
  ledger: Ledger | undefined;
  config: ConfigView;
  log: Logger;
  /** The value schema of an output topic, or undefined when the catalog gives none. */
  outputSchema(topic: string): SchemaFile | undefined;
  /** Whether `message` fits `topic` (its max.message.bytes). */
  fits(topic: string, message: OutgoingMessage): boolean;
}

export class RecordContext implements RuntimeContext {
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
    this.logger ??= this.env.log.child(kafkaFields(this.record));
    return this.logger;
  }

  get clock(): Clock {
    return this.env.clock;
  }

  get config(): ConfigView {
    return this.env.config;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  /** The runtime gave up on the handler: its `signal` aborts with `reason`. */
  abort(reason: unknown): void {
    this.controller?.abort(reason);
  }

  async send(topic: string, key: string, value: unknown, headers?: Record<string, string>): Promise<void> {
    this.write(topic, { key, value: await this.encode(topic, value), headers: this.childHeaders(headers) });
  }

  async schedule(topic: string, key: string, value: unknown, when: When): Promise<void> {
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
    const { ledger, route } = this.env;
    if (!ledger) throw new SluiceError("LEDGER_MISSING", `processor ${route.name} uses ctx.once without a ledger`);
    return (await ledger.once(route.group, key, fn)).result;
  }

  /** Buffers `message` for `topic`, which it must fit: a record its topic refuses would stall the partition. */
  private write(topic: string, message: OutgoingMessage): void {
    this.mustFit(topic, message);
    this.out.add(topic, message);
  }

  private mustFit(topic: string, message: OutgoingMessage): void {
    if (!this.env.fits(topic, message)) {
      throw new PermanentError(
        `processor ${this.env.route.name} wrote a record too large for ${topic} (its max.message.bytes)`,
        "OUTPUT_TOO_LARGE",
      );
    }
  }

  private encode(topic: string, value: unknown): Promise<Buffer> {
    const { route, serde } = this.env;
    if (!route.outputs.includes(topic)) {
      throw new PermanentError(
        `processor ${route.name} does not declare ${topic} among its outputs`,
        "OUTPUT_UNDECLARED",
      );
    }
    const schema = this.env.outputSchema(topic);
    if (!schema) throw new SluiceError("SCHEMA_MISSING", `no value schema for ${topic}`);
    return serde.encode(valueSubject(topic), schema, value);
  }

  /** An output's headers: an event id derived from the input's (the same on every redelivery), its trace id. */
  private childHeaders(extra?: Record<string, string>): OutgoingHeaders {
    const { headers, topic, offset } = this.record;
    return headerList({
      [HEADER.eventId]: childEventId(headers[HEADER.eventId] ?? `${topic}/${offset}`, this.produced++),
      [HEADER.traceId]: headers[HEADER.traceId] ?? "",
      [HEADER.producedAt]: String(this.env.clock.now()),
      ...extra,
    });
  }
}
