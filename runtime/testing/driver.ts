/**
 * The deterministic test driver: a team's processors, unchanged (the same runner, retry policies and delay router
 * as in production), on an in-memory Kafka and a simulated clock. `pipe` a record in, `advance` the clock, and
 * `read` what came out: a 30-minute timeout or a 10-minute retry tier is tested in milliseconds, the same way
 * every run.
 */
import pino from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { valueSubject } from "../../schemas/subjects.ts";
import { type Duration, toMs } from "../../topics/duration.ts";
import { SluiceError } from "../../topics/errors.ts";
import { type BusinessTopic, topicByName } from "../../topics/topic.ts";
import { loadConfig } from "../config.ts";
import { DelayRouter } from "../delay/delay-router.ts";
import { headerList, newEventHeaders, type OutgoingHeaders, type RecordHeaders, textHeaders } from "../headers.ts";
import type { ConsumedRecord, OutgoingMessage } from "../kafka/port.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { Metrics } from "../metrics.ts";
import type { Processor, TopicOf } from "../processor.ts";
import { type Route, topicPlan } from "../route.ts";
import { ProcessorRunner } from "../runner/runner.ts";
import { AvroSerde } from "../serde/avro-serde.ts";
import { BROKER_DEFAULT_MAX_MESSAGE_BYTES } from "../topic-limits.ts";
import { MemoryKafka } from "./memory-kafka.ts";
import { MemoryLedger } from "./memory-ledger.ts";
import { MemoryRegistry } from "./memory-registry.ts";
import { SimulatedClock } from "./simulated-clock.ts";

export interface DriverOptions {
  /** The catalog the processors' topics are declared in, and its schemas by full name. */
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
  processors: readonly Processor[];
  /** The ledger behind ctx.once: in memory by default; a PostgresLedger for side effects kept in PostgreSQL. */
  ledger?: Ledger;
  /** Where the simulated clock starts, epoch milliseconds. */
  startAt?: number;
}

/** A record as a test reads it: decoded when its bytes are a value of its topic's schema. */
export interface DrivenRecord<V = unknown> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  /** The decoded value; undefined when the record has none or its bytes do not decode (`error` says why). */
  value: V | undefined;
  error?: string;
  /** The headers as text (the first value of each name), and as the record carries them. */
  headers: Record<string, string>;
  headerList: RecordHeaders;
  timestamp: number;
}

/** A driver run does this many rounds of deliveries and timers at most before it counts as running away. */
const MAX_ROUNDS = 100_000;

export class TestDriver<Values extends object = Record<string, unknown>> {
  readonly clock: SimulatedClock;
  readonly kafka: MemoryKafka;
  readonly metrics = new Metrics();
  /** What handlers read as ctx.config: set a key here to broadcast it to every processor of the driver. */
  readonly config = new Map<string, string>();
  private readonly options: DriverOptions;
  private readonly serde: AvroSerde;
  private readonly runners: ProcessorRunner[] = [];
  private router: DelayRouter | undefined;

  private constructor(options: DriverOptions) {
    this.options = options;
    this.clock = new SimulatedClock(options.startAt ?? Date.UTC(2026, 0, 1));
    this.kafka = new MemoryKafka(this.clock);
    this.serde = new AvroSerde(new MemoryRegistry(), { autoRegister: true });
  }

  /** Creates the catalog's topics and the processors' tiers and DLQs, then starts the processors and the router. */
  static async start<Values extends object = Record<string, unknown>>(
    options: DriverOptions,
  ): Promise<TestDriver<Values>> {
    const driver = new TestDriver<Values>(options);
    await driver.begin();
    return driver;
  }

  private async begin(): Promise<void> {
    const { topics, schemas, processors } = this.options;
    for (const plan of topicPlan(topics, processors, 1)) this.kafka.createTopic(plan);
    const log = pino({ level: "silent" });
    // The defaults, whatever this process's environment says: a test runs the same everywhere.
    const defaults = loadConfig({});
    const deps = {
      kafka: this.kafka,
      serde: this.serde,
      topics,
      schemas,
      ledger: this.options.ledger ?? new MemoryLedger(),
      clock: this.clock,
      log,
      metrics: this.metrics,
      instanceId: "driver",
      maxPollIntervalMs: defaults.maxPollIntervalMs,
      sessionTimeoutMs: defaults.sessionTimeoutMs,
      stallAfterMs: defaults.stallAfterMs,
      outageMaxWaitMs: defaults.outageMaxWaitMs,
      config: { get: (key: string) => this.config.get(key) },
    };
    for (const processor of processors) this.runners.push(new ProcessorRunner(processor, deps));
    this.router = new DelayRouter(deps);
    for (const runner of this.runners) await runner.start();
    await this.router.start();
    await this.settle();
  }

  /** Produces `value` to `topic` (encoded with its schema, with the standard headers), then runs until idle. */
  async pipe<T extends TopicOf<Values>>(
    topic: T,
    key: string,
    value: Values[T],
    headers: Record<string, string> = {},
  ): Promise<void> {
    await this.pipeAll(topic, [{ key, value, headers }]);
  }

  /** Produces several records at once (the processors then find them all there), then runs until idle. */
  async pipeAll<T extends TopicOf<Values>>(
    topic: T,
    records: readonly { key: string; value: Values[T]; headers?: Record<string, string> }[],
  ): Promise<void> {
    const schema = this.options.schemas.get(this.topic(topic).valueSchema);
    if (!schema) throw new SluiceError("SCHEMA_MISSING", `no value schema for ${topic}`);
    const messages = [];
    for (const { key, value, headers = {} } of records) {
      const encoded = await this.serde.encode(valueSubject(topic), schema, value);
      messages.push({ key, value: encoded, headers: headerList({ ...newEventHeaders(this.clock.now()), ...headers }) });
    }
    await this.send(topic, messages);
  }

  /** Produces bytes as another team's producer would, then runs until idle. */
  async pipeRaw(topic: string, record: { key: string | null; value: Buffer | null; headers?: OutgoingHeaders }) {
    await this.send(topic, [{ key: record.key, value: record.value, headers: record.headers ?? [] }]);
  }

  private async send(topic: string, messages: OutgoingMessage[]): Promise<void> {
    const producer = this.kafka.producer({ maxMessageBytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES });
    await producer.send([{ topic, messages }]);
    await this.settle();
  }

  /** Moves the clock forward, firing every timer on the way in time order and running until idle after each. */
  async advance(by: Duration | number): Promise<void> {
    const target = this.clock.now() + (typeof by === "number" ? by : toMs(by));
    for (let next = this.clock.nextDue(); next !== undefined && next <= target; next = this.clock.nextDue()) {
      this.clock.moveTo(next);
      await this.settle();
    }
    this.clock.moveTo(target);
    await this.settle();
  }

  /** Every record of `topic` a read_committed consumer sees, each partition's in order. */
  async read<T extends TopicOf<Values>>(topic: T): Promise<DrivenRecord<Values[T]>[]>;
  async read(topic: string): Promise<DrivenRecord[]>;
  async read(topic: string): Promise<DrivenRecord[]> {
    const partitions = this.kafka.topic(topic).partitions.map((_, partition) => ({ topic, partition }));
    const records: ConsumedRecord[] = [];
    await this.kafka.readToEnd(partitions, (record) => records.push(record));
    const reader = this.readerOf(topic);
    return Promise.all(records.map((record) => this.driven(record, reader)));
  }

  /** The DLQ of a processor (by name or group). */
  dlq(processor: string): Promise<DrivenRecord[]> {
    const route = this.routeOf(processor);
    if (!route) throw new SluiceError("CONFIG_INVALID", `no processor or group named ${processor}`);
    return this.read(route.dlqTopic);
  }

  /** The retry tier topics of a processor (by name or group), in tier order. */
  tiersOf(processor: string): readonly string[] {
    return this.routeOf(processor)?.tierTopics ?? [];
  }

  private get routes(): Route[] {
    return this.runners.map((runner) => runner.route);
  }

  private routeOf(processor: string): Route | undefined {
    return this.routes.find((r) => r.name === processor || r.group === processor);
  }

  async stop(): Promise<void> {
    for (const runner of this.runners) await runner.stop();
    await this.router?.stop();
  }

  /**
   * Hands records over and fires due timers until neither does anything and no long-running job is under way (a
   * job's handler should not wait on ctx.clock's timers here: the clock moves only when the test says).
   */
  private async settle(): Promise<void> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const delivered = await this.kafka.deliver();
      // Work the runtime does outside a batch (group commits, held records' delivery) gets its turn.
      await new Promise((resolve) => setImmediate(resolve));
      const fired = this.clock.fireDue();
      if (delivered || fired > 0) continue;
      const jobs = this.runners.flatMap((runner) => runner.jobsUnderWay());
      if (jobs.length === 0) return;
      await Promise.all(jobs);
    }
    throw new SluiceError("NOT_STARTED", `the driver did not come to rest within ${MAX_ROUNDS} rounds`);
  }

  private topic(name: string): BusinessTopic {
    const topic = topicByName(name, this.options.topics);
    if (!topic) throw new SluiceError("TOPIC_UNKNOWN", `${name} is not in the driver's catalog`);
    return topic;
  }

  /** The schema a topic's values are read as: its own, or its input's for a retry tier or DLQ. */
  private readerOf(topic: string): SchemaFile | undefined {
    const route = this.routes.find((r) => r.tierTopics.includes(topic) || r.dlqTopic === topic);
    const business = topicByName(route ? route.input : topic, this.options.topics);
    return business && this.options.schemas.get(business.valueSchema);
  }

  private async driven(record: ConsumedRecord, reader: SchemaFile | undefined): Promise<DrivenRecord> {
    let value: unknown;
    let error: string | undefined;
    if (record.value !== null) {
      try {
        value = (await this.serde.decode(record.value, reader?.type)).value;
      } catch (e) {
        error = (e as Error).message;
      }
    }
    return {
      topic: record.topic,
      partition: record.partition,
      offset: record.offset,
      key: record.key?.toString() ?? null,
      value,
      ...(error === undefined ? {} : { error }),
      headers: textHeaders(record.headers),
      headerList: record.headers,
      timestamp: record.timestamp,
    };
  }
}
