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
 * what it writes by the record's event id.
 */
import type { Logger } from "pino";
import { toMs } from "../../topics/duration.ts";
import { SluiceError } from "../../topics/errors.ts";
import { topicByName } from "../../topics/topic.ts";
import { classify } from "../failure.ts";
import { HEADER } from "../headers.ts";
import type { BatchControl, GroupConsumer, Producer, RecordBatch, TopicPartition } from "../kafka/port.ts";
import { kafkaFields } from "../logger.ts";
import { OutputBuffer } from "../output-buffer.ts";
import { PausedPartitions } from "../paused-partitions.ts";
import { type Route, routeOf } from "../route.ts";
import { FailureCopies } from "../runner/failure-copies.ts";
import { type ReadRecord, readRecord } from "../runner/read-record.ts";
import { DEFAULT_MAX_VALUE_BYTES, RecordDecoder } from "../runner/record-decoder.ts";
import type { RuntimeDeps } from "../runner/runner.ts";
import type { Sink, SinkRecord } from "../sink.ts";
import { backoffMs, type StalledPartition, StalledPartitions } from "../stalled-partitions.ts";
import { TopicLimits } from "../topic-limits.ts";
import { SinkBatcher } from "./sink-batcher.ts";

const DEFAULT_MAX_RECORDS = 1_000;
const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
const DEFAULT_LINGER_MS = 5;
const DEFAULT_WRITE_TIMEOUT_MS = 30_000;
/** The most records of one partition handed over at once (as many as a processor gets). */
const PARTITION_BATCH_RECORDS = 500;
/** Partitions handed over at once: their records share batches. */
const PARTITIONS_AT_ONCE = 12;

/** A record of a handed-over batch: decoded, or the permanent reason it cannot be. */
type Entry = { read: ReadRecord; record: SinkRecord<unknown> } | { read: ReadRecord; error: unknown };

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
      // that is not acknowledged.
      autoCommit: true,
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

  private onRebalance(event: "assigned" | "revoked", partitions: TopicPartition[]): void {
    this.deps.metrics.rebalances.inc({ processor: this.route.name, event }, partitions.length);
    if (event === "revoked") this.stalls.clear();
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
    let entries: (Entry & { outcome?: unknown })[];
    try {
      entries = await this.written(batch);
    } finally {
      this.hold(-held.bytes, -held.records);
      for (const wake of this.waiting.splice(0)) wake();
    }
    if (control.isStale()) return; // revoked meanwhile: the new owner reads from the committed offset
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

  /** Decodes the batch's records and writes those that decode; each entry ends acknowledged or with an error. */
  private async written(batch: RecordBatch): Promise<(Entry & { outcome?: unknown })[]> {
    const entries = await Promise.all(batch.records.map((consumed) => this.decode(readRecord(consumed, -1))));
    const records = entries.flatMap((e) => ("record" in e ? [e.record] : []));
    const outcomes = records.length > 0 ? await this.batcher.add(records) : [];
    let next = 0;
    return entries.map((entry) => ("record" in entry ? { ...entry, outcome: outcomes[next++] } : entry));
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
      };
      return { read, record };
    } catch (error) {
      return { read, error };
    }
  }

  /**
   * Resolves the partition up to its first record that failed transiently, after the rejected records before it
   * are on the DLQ; pauses it for a backoff when such a record exists.
   */
  private async settle(
    batch: RecordBatch,
    entries: (Entry & { outcome?: unknown })[],
    control: BatchControl,
  ): Promise<void> {
    const errorOf = (e: Entry & { outcome?: unknown }) => ("error" in e ? e.error : e.outcome);
    const firstTransient = entries.findIndex((e) => {
      const error = errorOf(e);
      return error !== undefined && !classify(error).permanent;
    });
    const done = firstTransient < 0 ? entries : entries.slice(0, firstTransient);
    const dlq = new OutputBuffer();
    for (const entry of done) {
      const error = errorOf(entry);
      if (error !== undefined) this.copies.failed(entry.read, 1, error, [], dlq);
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
  private async writeBatch(records: SinkRecord<unknown>[]): Promise<(unknown | undefined)[]> {
    const { metrics, clock } = this.deps;
    const timeout = new AbortController();
    const timer = clock.after(this.writeTimeoutMs, () =>
      timeout.abort(new SluiceError("SINK_WRITE_TIMEOUT", `sink write took longer than ${this.writeTimeoutMs}ms`)),
    );
    const started = performance.now();
    metrics.sinkBatchRecords.observe({ processor: this.route.name }, records.length);
    try {
      const result = await Promise.race([
        this.sink.write(records, { log: this.log, clock, signal: timeout.signal }),
        new Promise<never>((_, reject) =>
          timeout.signal.addEventListener("abort", () => reject(timeout.signal.reason), { once: true }),
        ),
      ]);
      const outcomes: (unknown | undefined)[] = records.map(() => undefined);
      for (const { index, error } of result?.failures ?? []) outcomes[index] = error;
      const transient = outcomes.some((e) => e !== undefined && !classify(e).permanent);
      metrics.sinkWriteSeconds.observe(
        { processor: this.route.name, outcome: transient ? "retry" : "ok" },
        (performance.now() - started) / 1000,
      );
      return outcomes;
    } catch (error) {
      metrics.sinkWriteSeconds.observe(
        { processor: this.route.name, outcome: "failed" },
        (performance.now() - started) / 1000,
      );
      throw error;
    } finally {
      timer.cancel();
    }
  }
}

/** Somewhere in the second half of `ms`: partitions failing together do not retry in step. */
function jittered(ms: number): number {
  return Math.round(ms / 2 + (Math.random() * ms) / 2);
}
