/**
 * Runs one sink: consumes its input, decodes each record, hands the records to the batcher, and once their batch
 * is written resolves each partition up to its first record not yet acknowledged. Records the external system
 * rejected for good (and records that do not decode) go to the group's DLQ first, with the reason in their
 * headers. When a write fails transiently, the partition pauses for a backoff with jitter and is read again
 * from its first unacknowledged record: nothing is dropped, nothing spins, and the write is tried for as long as
 * the failure lasts (a partition failing for `stallAfterMs` shows on /health/ready). Backpressure: a partition
 * whose batch would take the records read and not yet acknowledged past the bound (about two batches) is not read
 * on until the writes ahead of it settle.
 *
 * At-least-once: a record written and not yet committed is written again after a crash, so a sink's write keys
 * what it writes by the record's event id. A staged sink (an archive) makes records durable later than it writes
 * them: its partitions are committed only as far as it reports them durable, after its writes, between them when
 * something is due, and when partitions are revoked or the sink stops.
 */
import type { Logger } from "pino";
import { toMs } from "../../topics/duration.ts";
import { SluiceError } from "../../topics/errors.ts";
import { topicByName } from "../../topics/topic.ts";
import { classify } from "../failure.ts";
import { HEADER } from "../headers.ts";
import type {
  BatchControl,
  GroupConsumer,
  Producer,
  RecordBatch,
  TopicPartition,
  TopicPartitionOffset,
} from "../kafka/port.ts";
import { kafkaFields } from "../logger.ts";
import { OutputBuffer } from "../output-buffer.ts";
import { PausedPartitions } from "../paused-partitions.ts";
import { type Route, routeOf } from "../route.ts";
import { FailureCopies } from "../runner/failure-copies.ts";
import { type ReadRecord, readRecord, replayedForAnother } from "../runner/read-record.ts";
import { DEFAULT_MAX_VALUE_BYTES, RecordDecoder } from "../runner/record-decoder.ts";
import type { RuntimeDeps } from "../runner/runner.ts";
import { unframe } from "../serde/wire-format.ts";
import type { Sink, SinkContext, SinkRecord } from "../sink.ts";
import { backoffMs, type StalledPartition, StalledPartitions } from "../stalled-partitions.ts";
import { TopicLimits } from "../topic-limits.ts";
import { SinkBatcher } from "./sink-batcher.ts";

const DEFAULT_MAX_RECORDS = 1_000;
const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const DEFAULT_LINGER_MS = 5;
const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
const DEFAULT_STAGING_EVERY_MS = 1_000;
/** The most records of one partition handed over at once (as many as a processor gets). */
const PARTITION_BATCH_RECORDS = 500;
/** Partitions handed over at once: their records share batches. */
const PARTITIONS_AT_ONCE = 12;

/** A record of a handed-over batch: decoded (and, once written, its outcome), or the reason it cannot be. */
type Entry =
  | { read: ReadRecord; record: SinkRecord<unknown>; outcome?: unknown }
  | { read: ReadRecord; error: unknown }
  /** Replayed into the input for another group: passed over. */
  | { read: ReadRecord; skipped: true };

const partitionKey = ({ topic, partition }: TopicPartition) => `${topic}/${partition}`;

export class SinkRunner {
  readonly route: Route;
  private readonly sink: Sink;
  private readonly deps: RuntimeDeps;
  private readonly log: Logger;
  private readonly consumer: GroupConsumer;
  private readonly decoder: RecordDecoder;
  private readonly batcher: SinkBatcher<SinkRecord<unknown>>;
  private readonly copies: FailureCopies;
  private readonly limits: TopicLimits;
  private readonly paused: PausedPartitions;
  private readonly stalls: StalledPartitions;
  /** What may be read and not yet acknowledged: about a batch being written and the next one filling. */
  private readonly maxInFlight: { bytes: number; records: number };
  private readonly writeTimeoutMs: number;
  private readonly inFlight = { bytes: 0, records: 0 };
  /** Partitions held back by the bound, woken as writes settle. */
  private readonly waiting: (() => void)[] = [];
  /** The partitions this member owns: a staged sink is given, and commits, only theirs. */
  private readonly assigned = new Set<string>();
  private producer: Producer | undefined;
  private readonly stopping = new AbortController();
  private running = false;

  constructor(sink: Sink, deps: RuntimeDeps) {
    const route = routeOf(sink);
    const input = topicByName(route.input, deps.topics);
    if (!input) throw new SluiceError("TOPIC_UNKNOWN", `sink ${route.name}: ${route.input} is not in the catalog`);
    this.route = route;
    this.sink = sink;
    this.deps = deps;
    this.log = deps.log.child({ "sluice.sink": route.name, "kafka.group": route.group });
    this.paused = new PausedPartitions(deps.clock, this.log);
    this.stalls = new StalledPartitions(route.name, { ...deps, log: this.log, paused: this.paused }, deps.stallAfterMs);
    this.limits = new TopicLimits([route.dlqTopic]);
    this.copies = new FailureCopies({ route, limits: this.limits, ...deps, log: this.log });
    this.decoder = new RecordDecoder(
      route,
      deps.serde,
      deps.schemas.get(input.valueSchema)?.type,
      deps.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
      false,
    );
    const { batching = {} } = sink;
    const maxRecords = batching.maxRecords ?? DEFAULT_MAX_RECORDS;
    this.batcher = new SinkBatcher(
      {
        maxRecords,
        maxBytes: batching.maxBytes ?? DEFAULT_MAX_BYTES,
        lingerMs: batching.linger === undefined ? DEFAULT_LINGER_MS : toMs(batching.linger),
      },
      deps.clock,
      (records) => this.writeBatch(records),
    );
    this.maxInFlight = {
      bytes: sink.maxInFlightBytes ?? 2 * (batching.maxBytes ?? DEFAULT_MAX_BYTES),
      records: 2 * maxRecords,
    };
    this.writeTimeoutMs = sink.writeTimeout === undefined ? DEFAULT_WRITE_TIMEOUT_MS : toMs(sink.writeTimeout);
    this.consumer = deps.kafka.consumer({
      groupId: route.group,
      instanceId: `${route.group}.${deps.instanceId}`,
      sessionTimeoutMs: deps.sessionTimeoutMs,
      maxPollIntervalMs: deps.maxPollIntervalMs,
      // A partition's batch is never larger than a write's, so a batch let through alone stays within the bound.
      maxBatchRecords: Math.min(maxRecords, PARTITION_BATCH_RECORDS),
      // Resolved offsets are committed in the background: a partition's resolved offset never passes a record
      // that is not acknowledged. A staged sink's are committed as its records become durable.
      autoCommit: !sink.staging,
      readCommitted: true,
      onRebalance: (event, partitions) => this.onRebalance(event, partitions),
    });
  }

  /** Prepares the external system (retrying until it works, or until stopped), then starts consuming. */
  async start(): Promise<void> {
    await this.open();
    if (this.stopping.signal.aborted) return;
    await this.limits.refresh(this.deps.kafka);
    this.producer = this.deps.kafka.producer({ lingerMs: 5, ...this.limits.producerConfig() });
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe([this.route.input]);
    this.running = true;
    this.checkStaged();
    await this.consumer.run({
      partitionsAtOnce: PARTITIONS_AT_ONCE,
      eachBatch: (batch, control) => this.onBatch(batch, control),
    });
    this.log.info({ topic: this.route.input }, "sink started");
  }

  get isRunning(): boolean {
    return this.running;
  }

  stalled(): StalledPartition[] {
    return this.stalls.stalled();
  }

  /** Stops fetching, lets the batches in flight be written and resolved, leaves the group, closes the sink. */
  async stop(): Promise<void> {
    this.stopping.abort();
    if (this.running) {
      this.running = false;
      this.paused.cancelAll();
      await this.consumer.disconnect();
      await this.batcher.idle();
      await this.producer?.disconnect();
    }
    await this.sink.close?.();
    this.log.info("sink stopped");
  }

  private async open(): Promise<void> {
    const { open } = this.sink;
    if (!open) return;
    for (let attempt = 1; !this.stopping.signal.aborted; attempt++) {
      try {
        await open({ log: this.log, clock: this.deps.clock });
        return;
      } catch (error) {
        const waitMs = jittered(backoffMs(attempt));
        this.log.warn({ err: error, backoffMs: waitMs }, "could not prepare the sink's external system: trying again");
        await this.waitUnlessStopped(waitMs);
      }
    }
  }

  private waitUnlessStopped(ms: number): Promise<void> {
    const { signal } = this.stopping;
    return new Promise((resolve) => {
      const done = () => {
        timer.cancel();
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = this.deps.clock.after(ms, done);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  private async onRebalance(event: "assigned" | "revoked", partitions: TopicPartition[]): Promise<void> {
    this.deps.metrics.rebalances.inc({ processor: this.route.name, event }, partitions.length);
    if (event === "assigned") {
      for (const p of partitions) this.assigned.add(partitionKey(p));
      return;
    }
    this.stalls.clear();
    const { staging } = this.sink;
    if (!staging) return;
    // What the revoked partitions staged is made durable and committed while they are still this member's; the
    // writes before it finish first, and none after it is given their records.
    await this.batcher.exclusive(async () => {
      try {
        await this.commitDurable(await this.withinWriteTimeout((ctx) => staging.flush(partitions, ctx)));
      } catch (error) {
        this.log.warn({ err: error }, "could not make the revoked partitions' records durable: they are read again");
      } finally {
        for (const p of partitions) this.assigned.delete(partitionKey(p));
      }
    });
  }

  /** Asks a staged sink, between writes, to make durable what is due, until the sink stops. */
  private checkStaged(): void {
    const { staging } = this.sink;
    if (!staging) return;
    const every = staging.every === undefined ? DEFAULT_STAGING_EVERY_MS : toMs(staging.every);
    const check = () => {
      if (this.stopping.signal.aborted) return;
      this.batcher
        .exclusive(async () => this.commitDurable(await this.withinWriteTimeout((ctx) => staging.due(ctx))))
        .catch((error) => this.log.warn({ err: error }, "could not make staged records durable: trying again"))
        .finally(() => this.deps.clock.after(every, check));
    };
    this.deps.clock.after(every, check);
  }

  /** Commits a staged sink's durable records, of the partitions it still owns. */
  private async commitDurable(durable: TopicPartitionOffset[] | undefined): Promise<void> {
    const next = new Map<string, TopicPartitionOffset>(); // each partition's furthest
    for (const p of durable ?? []) {
      const key = partitionKey(p);
      const offset = BigInt(p.offset) + 1n;
      if (this.assigned.has(key) && offset > BigInt(next.get(key)?.offset ?? -1)) {
        next.set(key, { topic: p.topic, partition: p.partition, offset: String(offset) });
      }
    }
    const offsets = [...next.values()];
    if (offsets.length === 0) return;
    try {
      await this.consumer.commit(offsets);
    } catch (error) {
      // The next durable records commit past these; after a crash first, the sink finds what it finished.
      this.log.warn({ err: error, offsets }, "could not commit durable records");
    }
  }

  private async onBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (control.isStale()) return;
    const held = {
      bytes: batch.records.reduce((sum, r) => sum + (r.value?.length ?? 0), 0),
      records: batch.records.length,
    };
    // Backpressure: the partition is not read on while its batch waits for room (the writes ahead of it are bounded
    // by the write timeout), so the process holds about two batches, whatever the backlog.
    while (this.inFlight.records > 0 && this.wouldOverflow(held)) {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.hold(held.bytes, held.records);
    let entries: Entry[] | undefined;
    try {
      entries = await this.written(batch, control);
    } finally {
      this.hold(-held.bytes, -held.records);
      for (const wake of this.waiting.splice(0)) wake();
    }
    if (!entries || control.isStale()) return; // revoked meanwhile: the new owner reads from the committed offset
    await this.settle(batch, entries, control);
  }

  private wouldOverflow(held: { bytes: number; records: number }): boolean {
    return (
      this.inFlight.bytes + held.bytes > this.maxInFlight.bytes ||
      this.inFlight.records + held.records > this.maxInFlight.records
    );
  }

  private hold(bytes: number, records: number): void {
    this.inFlight.bytes += bytes;
    this.inFlight.records += records;
    this.deps.metrics.sinkInFlightBytes.set({ processor: this.route.name }, this.inFlight.bytes);
  }

  /**
   * Decodes the batch's records, sends those that can never decode to the DLQ, and writes the others up to the
   * first that failed to decode for now (the registry unreachable): each entry ends acknowledged or with an error.
   * Undefined when the DLQ could not be written: the partition then pauses and the batch is read again.
   */
  private async written(batch: RecordBatch, control: BatchControl): Promise<Entry[] | undefined> {
    const entries = await Promise.all(
      batch.records.map((consumed): Entry | Promise<Entry> => {
        const read = readRecord(consumed, -1);
        return replayedForAnother(read, this.route.group) ? { read, skipped: true } : this.decode(read);
      }),
    );
    const firstTransient = entries.findIndex((e) => "error" in e && !classify(e.error).permanent);
    const writable = firstTransient < 0 ? entries : entries.slice(0, firstTransient);
    const rejected = writable.filter((e) => "error" in e);
    if (rejected.length > 0) {
      const dlq = new OutputBuffer();
      for (const entry of rejected) this.copies.failed(entry.read, 1, entry.error, [], dlq);
      try {
        await this.producer?.send(dlq.topicMessages());
      } catch (error) {
        this.backOff(batch, control, error, "could not write rejected records to the DLQ: the batch is read again");
        return undefined;
      }
    }
    const records = writable.flatMap((e) => ("record" in e ? [e.record] : []));
    const outcomes = records.length > 0 ? await this.batcher.add(records) : [];
    let next = 0;
    return entries.map((entry) =>
      "record" in entry && next < records.length ? { ...entry, outcome: outcomes[next++] } : entry,
    );
  }

  private async decode(read: ReadRecord): Promise<Entry> {
    try {
      const input = await this.decoder.decode(read, 1);
      const record: SinkRecord<unknown> = {
        topic: input.topic,
        partition: input.partition,
        offset: input.offset,
        key: input.key,
        value: input.value,
        headers: input.headers,
        eventId: input.headers[HEADER.eventId] || `${input.topic}-${input.partition}-${input.offset}`,
        timestamp: input.timestamp,
        bytes: read.consumed.value?.length ?? 0,
        schemaId: read.consumed.value ? unframe(read.consumed.value).schemaId : 0,
      };
      return { read, record };
    } catch (error) {
      return { read, error };
    }
  }

  /**
   * Resolves the partition up to its first record that failed transiently, after the records the external system
   * rejected before it are on the DLQ (those that did not decode are already); pauses it for a backoff when such a
   * record exists.
   */
  private async settle(batch: RecordBatch, entries: Entry[], control: BatchControl): Promise<void> {
    const errorOf = (e: Entry) => ("error" in e ? e.error : "record" in e ? e.outcome : undefined);
    const firstTransient = entries.findIndex((e) => {
      const error = errorOf(e);
      return error !== undefined && !classify(error).permanent;
    });
    const done = firstTransient < 0 ? entries : entries.slice(0, firstTransient);
    const dlq = new OutputBuffer();
    for (const entry of done) {
      if ("record" in entry && entry.outcome !== undefined) this.copies.failed(entry.read, 1, entry.outcome, [], dlq);
    }
    const last = done.at(-1);
    if (last) {
      try {
        await this.producer?.send(dlq.topicMessages());
      } catch (error) {
        this.backOff(batch, control, error, "could not write rejected records to the DLQ: the batch is read again");
        return;
      }
      control.resolveOffset(last.read.consumed.offset);
      this.deps.metrics.consumed.inc({ processor: this.route.name, topic: batch.topic }, done.length);
      this.deps.metrics.observeLag(
        this.route.name,
        batch,
        Number(last.read.consumed.offset),
        this.deps.clock.now() - last.read.consumed.timestamp,
      );
    }
    const failed = entries[firstTransient];
    if (failed) {
      this.deps.metrics.sinkRetries.inc({ processor: this.route.name }, entries.length - firstTransient);
      this.backOff(batch, control, errorOf(failed), "write failed: the partition pauses and is read again");
    } else {
      this.stalls.written(batch.topic, batch.partition);
    }
  }

  private backOff(where: TopicPartition, control: BatchControl, error: unknown, message: string): void {
    const backoffMs = jittered(this.stalls.failed(where.topic, where.partition, error));
    this.log.warn({ err: error, ...kafkaFields(where), backoffMs }, message);
    this.paused.pauseUntil(control.pause, this.deps.clock.now() + backoffMs, where);
  }

  /** One batch to the external system, within the write timeout; each record's outcome in order. */
  private async writeBatch(batch: SinkRecord<unknown>[]): Promise<(unknown | undefined)[]> {
    const { metrics } = this.deps;
    const { staging } = this.sink;
    // A staged sink is not given records of partitions revoked since they were read: their new owner stages them.
    const revoked = new SluiceError("SINK_PARTITION_REVOKED", "the partition was revoked before the write");
    const records = staging ? batch.filter((r) => this.assigned.has(partitionKey(r))) : batch;
    const started = performance.now();
    metrics.sinkBatchRecords.observe({ processor: this.route.name }, records.length);
    try {
      const result = await this.withinWriteTimeout((ctx) => this.sink.write(records, ctx));
      if (staging && result?.failures.length) {
        throw new SluiceError("SINK_STAGED_FAILURES", "a staged sink's write returned failures: it must take or throw");
      }
      if (staging) await this.commitDurable(result?.durable);
      const outcomes = new Map<SinkRecord<unknown>, unknown>();
      for (const { index, error } of result?.failures ?? []) outcomes.set(records[index] as SinkRecord<unknown>, error);
      const transient = [...outcomes.values()].some((e) => !classify(e).permanent);
      metrics.sinkWriteSeconds.observe(
        { processor: this.route.name, outcome: transient ? "retry" : "ok" },
        (performance.now() - started) / 1000,
      );
      return batch.map((r) => (records === batch || this.assigned.has(partitionKey(r)) ? outcomes.get(r) : revoked));
    } catch (error) {
      metrics.sinkWriteSeconds.observe(
        { processor: this.route.name, outcome: "failed" },
        (performance.now() - started) / 1000,
      );
      throw error;
    }
  }

  /** Runs a call to the sink, aborted and failed once it takes longer than the write timeout. */
  private async withinWriteTimeout<T>(call: (ctx: SinkContext) => Promise<T>): Promise<T> {
    const { clock } = this.deps;
    const timeout = new AbortController();
    const timer = clock.after(this.writeTimeoutMs, () =>
      timeout.abort(new SluiceError("SINK_WRITE_TIMEOUT", `sink write took longer than ${this.writeTimeoutMs}ms`)),
    );
    try {
      return await Promise.race([
        call({ log: this.log, clock, signal: timeout.signal }),
        new Promise<never>((_, reject) =>
          timeout.signal.addEventListener("abort", () => reject(timeout.signal.reason), { once: true }),
        ),
      ]);
    } finally {
      timer.cancel();
    }
  }
}

/** Somewhere in the second half of `ms`: partitions failing together do not retry in step. */
function jittered(ms: number): number {
  return Math.round(ms / 2 + (Math.random() * ms) / 2);
}
