/**
 * Runs one processor: consumes its input topic and its group's retry tiers, calls the handler per record (through
 * the key scheduler, under the retry policy its route names), and writes outputs, retries and DLQ copies with the
 * batch's offset (the batch writer).
 *
 * A partition whose head is not due yet (a retry tier), that is blocked (blocking policy) or whose write failed is
 * paused and left unresolved, so it is read again from there when it resumes; the others keep flowing.
 *
 * A long-running processor's records are jobs (see `startJob`): each runs outside the batch callback, its
 * partition paused until it ends, so the member polls on and keeps its place in the group however long it takes.
 */
import type { Logger } from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { SluiceError } from "../../topics/errors.ts";
import { type BusinessTopic, delayTopicName, topicByName } from "../../topics/topic.ts";
import { type Clock, sleep } from "../clock.ts";
import type { BatchControl, GroupConsumer, KafkaPort, RecordBatch, TopicPartition } from "../kafka/port.ts";
import { committedOffsets } from "../kafka/whole-topic.ts";
import type { Ledger } from "../ledger/ledger.ts";
import { kafkaFields } from "../logger.ts";
import type { Metrics } from "../metrics.ts";
import { OutputBuffer } from "../output-buffer.ts";
import { PausedPartitions } from "../paused-partitions.ts";
import type { ConfigView, Processor } from "../processor.ts";
import { DELAY_TIERS, type Route, routeOf } from "../route.ts";
import type { AvroSerde } from "../serde/avro-serde.ts";
import { backoffMs, type StalledPartition, StalledPartitions } from "../stalled-partitions.ts";
import { TopicLimits } from "../topic-limits.ts";
import { type BatchWriter, batchWriter } from "./batch-writer.ts";
import { FailureCopies } from "./failure-copies.ts";
import { handlerTimeoutMs } from "./handler-call.ts";
import { KeyScheduler } from "./key-scheduler.ts";
import { policyFor } from "./policies/policy-for.ts";
import type { RetryPolicy } from "./policies/retry-policy.ts";
import { coordinates, dueAtOf, type ReadRecord, readRecord } from "./read-record.ts";
import { RecordPipeline } from "./record-pipeline.ts";

/** What every runner of a process shares. */
export interface RuntimeDeps {
  kafka: KafkaPort;
  serde: AvroSerde;
  /** The catalog the processors' inputs and outputs are declared in, and its schemas by full name. */
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
  ledger?: Ledger | undefined;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /** This member's stable name: its static group membership and transactional id derive from it. */
  instanceId: string;
  /** Kafka's max.poll.interval.ms: bounds handlers and batches. */
  maxPollIntervalMs: number;
  sessionTimeoutMs: number;
  /** How long a partition's writes may fail before it counts as stalled. */
  stallAfterMs: number;
  /** How long a partition waits in place for a dependency out of reach (default 30 min; see isOutage). */
  outageMaxWaitMs?: number | undefined;
  /** Values larger than this go to the DLQ as VALUE_TOO_LARGE (default 1 MiB). */
  maxValueBytes?: number | undefined;
  /** What handlers read as ctx.config: the node's broadcast configuration. Default: none set. */
  config?: ConfigView | undefined;
}

const TRANSACTION_TIMEOUT_MS = 15_000;
/** Partitions whose batches are processed at the same time (each batch commits on its own). */
const PARTITIONS_AT_ONCE = 8;
/** The longest a partition waits between two tries of a record whose dependency is out of reach. */
const OUTAGE_MAX_BACKOFF_MS = 5_000;
const DEFAULT_OUTAGE_MAX_WAIT_MS = 30 * 60_000;

export class ProcessorRunner {
  readonly route: Route;
  private readonly deps: RuntimeDeps;
  private readonly log: Logger;
  private readonly consumer: GroupConsumer;
  private readonly policy: RetryPolicy;
  private readonly scheduler: KeyScheduler;
  private readonly pipeline: RecordPipeline;
  private readonly paused: PausedPartitions;
  private readonly stalls: StalledPartitions;
  /** The topics this processor writes, and how large a record each accepts. */
  private readonly limits: TopicLimits;
  /** A batch starts no record after this long: with the handler timeout, it returns within half the interval. */
  private readonly batchBudgetMs: number;
  private writer: BatchWriter | undefined;
  /** Partitions that take turns (the policy's `serializesPartition`): the tail of each one's batches. */
  private readonly lanes = new Map<number, Promise<void>>();
  /** Long-running jobs under way, by `topic:partition`: aborted when the partition is revoked or the runner stops. */
  private readonly jobs = new Map<string, { abort: AbortController; done: Promise<void>; resume: () => void }>();
  /** Partitions waiting, paused, for a place among the jobs at once (route.jobsAtOnce): their resumes. */
  private readonly waiting = new Map<string, () => void>();
  private running = false;

  constructor(definition: Processor, deps: RuntimeDeps) {
    const route = routeOf(definition);
    if (!topicByName(route.input, deps.topics)) {
      throw new SluiceError("TOPIC_UNKNOWN", `processor ${route.name}: ${route.input} is not in the catalog`);
    }
    this.route = route;
    this.deps = deps;
    this.log = deps.log.child({ "sluice.processor": route.name, "kafka.group": route.group });
    this.paused = new PausedPartitions(deps.clock, this.log);
    this.stalls = new StalledPartitions(route.name, { ...deps, log: this.log, paused: this.paused }, deps.stallAfterMs);
    this.limits = new TopicLimits([
      ...route.tierTopics,
      route.dlqTopic,
      ...route.outputs,
      ...DELAY_TIERS.map(delayTopicName),
    ]);
    const copies = new FailureCopies({ route, limits: this.limits, ...deps, log: this.log });
    this.policy = policyFor(route, copies, { ...deps, log: this.log });
    this.scheduler = new KeyScheduler(this.policy, deps.clock, route.keyConcurrency);
    const timeoutMs = handlerTimeoutMs(definition, deps.maxPollIntervalMs);
    this.batchBudgetMs = route.longRunning ? 0 : deps.maxPollIntervalMs / 2 - timeoutMs;
    this.pipeline = new RecordPipeline(definition, route, this.policy, {
      ...deps,
      log: this.log,
      limits: this.limits,
      handlerTimeoutMs: timeoutMs,
      onOutage: (record, error) => this.waitForOutage(record, error),
    });
    this.consumer = deps.kafka.consumer({
      groupId: route.group,
      // Static membership: a restarted member takes its partitions back at once, without a rebalance; one that
      // is gone for good is replaced after the session timeout (seconds, not Kafka's default 45).
      instanceId: `${route.group}.${deps.instanceId}`,
      sessionTimeoutMs: deps.sessionTimeoutMs,
      maxPollIntervalMs: deps.maxPollIntervalMs,
      // Exactly-once commits offsets in its transactions; at-least-once commits what batches resolved.
      autoCommit: route.delivery === "at-least-once",
      readCommitted: true,
      onRebalance: (event, partitions) => this.onRebalance(event, partitions),
    });
  }

  async start(): Promise<void> {
    // Sized from the limits of the topics it writes, so a record that fits its topic is never refused locally.
    await this.limits.refresh(this.deps.kafka);
    const exactlyOnce = this.route.delivery === "exactly-once";
    const newProducer = () =>
      this.deps.kafka.producer({
        lingerMs: 5,
        ...this.limits.producerConfig(),
        // A restarted member reuses its transactional id, which aborts the transaction its previous life left
        // open at once; without that, read_committed consumers would wait out the transaction timeout.
        ...(exactlyOnce
          ? {
              transactionalId: `${this.route.group}.${this.deps.instanceId}`,
              transactionTimeoutMs: TRANSACTION_TIMEOUT_MS,
            }
          : {}),
      });
    const producer = newProducer();
    await producer.connect();
    this.writer = batchWriter(exactlyOnce, producer, this.consumer, this.deps.metrics, this.route.name, {
      newProducer,
      log: this.log,
      clock: this.deps.clock,
    });
    await this.consumer.connect();
    const topics = [this.route.input, ...this.route.tierTopics];
    await this.consumer.subscribe(topics);
    this.running = true;
    await this.consumer.run({
      partitionsAtOnce: PARTITIONS_AT_ONCE,
      eachBatch: (batch, control) => this.onBatch(batch, control),
    });
    this.log.info({ topics }, "processor started");
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** The long-running jobs under way, each settling when it has written (or let go). */
  jobsUnderWay(): Promise<void>[] {
    return [...this.jobs.values()].map((job) => job.done);
  }

  /** Partitions whose writes have been failing for too long (see StalledPartitions). */
  stalled(): StalledPartition[] {
    return this.stalls.stalled();
  }

  /** Stops fetching, lets in-flight batches finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.paused.cancelAll();
    // A job under way is not waited for (it may take an hour): aborted, and run again by the partition's next owner.
    await this.abortJobs(() => true);
    this.writer?.closing();
    await this.consumer.disconnect();
    await this.writer?.idle();
    await this.writer?.close();
    this.log.info("processor stopped");
  }

  /** What this member remembers about partitions is true only while it owns them. */
  private async onRebalance(event: "assigned" | "revoked", partitions: TopicPartition[]): Promise<void> {
    this.deps.metrics.rebalances.inc({ processor: this.route.name, event }, partitions.length);
    if (event === "revoked") {
      const revoked = new Set(partitions.map((p) => `${p.topic}:${p.partition}`));
      await this.abortJobs((key) => revoked.has(key));
      this.policy.revoked();
      this.stalls.clear();
    } else {
      await this.policy.assigned(partitions);
    }
  }

  private onBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    if (!this.policy.serializesPartition) return this.processBatch(batch, control);
    const { partition } = batch;
    const turn = (this.lanes.get(partition) ?? Promise.resolve()).then(() => this.processBatch(batch, control));
    const settled = turn.catch(() => {});
    this.lanes.set(partition, settled);
    void settled.then(() => {
      if (this.lanes.get(partition) === settled) this.lanes.delete(partition);
    });
    return turn;
  }

  private async processBatch(batch: RecordBatch, control: BatchControl): Promise<void> {
    const { clock, metrics } = this.deps;
    const now = clock.now();
    const tierIndex = this.route.tierTopics.indexOf(batch.topic);
    // A batch read again after its write failed: a topic's max.message.bytes may have changed meanwhile.
    if (this.stalls.failing(batch.topic, batch.partition)) await this.limits.refresh(this.deps.kafka).catch(() => {});
    if (this.route.longRunning) return this.startJob(batch, control, tierIndex, now);
    const records: ReadRecord[] = [];
    let resumeAt: number | undefined;
    for (const consumed of batch.records) {
      const record = readRecord(consumed, tierIndex);
      // A tier's records fall due in arrival order: stop at the first one not yet due.
      if (tierIndex >= 0 && dueAtOf(record) > now) {
        resumeAt = dueAtOf(record);
        break;
      }
      records.push(record);
    }
    // The batch's keys as the policy has them, to put back if its write fails and it is read again.
    const mark = this.policy.keys?.mark(records.map((r) => r.key));
    const { processed, blockedUntil, out } = await this.scheduler.run(
      records,
      now + this.batchBudgetMs,
      (record, recordOut) => this.pipeline.run(record, recordOut),
    );
    if (processed < records.length && blockedUntil === undefined) {
      this.log.debug(
        { ...kafkaFields(batch), processed, batch: records.length },
        "batch time budget spent: the rest is read again",
      );
    }
    resumeAt = blockedUntil ?? resumeAt;
    const last = records[processed - 1];
    if (last) {
      if (control.isStale()) return; // revoked meanwhile: the new owner re-reads from the committed offset
      if (!(await this.write(batch, last, out, control))) {
        if (mark) this.policy.keys?.restore(mark);
        return;
      }
      metrics.consumed.inc({ processor: this.route.name, topic: batch.topic }, processed);
      control.resolveOffset(last.consumed.offset);
      // How far behind the partition is: records to its end, and the age of the last one (a tier's: past due).
      const reference = last.tierIndex >= 0 ? dueAtOf(last) : last.consumed.timestamp;
      metrics.observeLag(this.route.name, batch, Number(last.consumed.offset), clock.now() - reference);
    }
    if (resumeAt !== undefined) this.paused.pauseUntil(control.pause, resumeAt, batch);
  }

  /**
   * A long-running processor's batch: its first record becomes a job. The partition is paused, and the batch handed
   * back at once, so the client goes on polling (the rest of the batch is read again after the job). When the job
   * ends, its outputs (or its retry copy) are written with its offset, and the partition resumes after it. A job
   * aborted by revocation writes nothing and leaves the partition to its new owner, which runs it again.
   */
  private startJob(batch: RecordBatch, control: BatchControl, tierIndex: number, now: number): void {
    const consumed = batch.records[0];
    if (!consumed) return;
    const record = readRecord(consumed, tierIndex);
    if (tierIndex >= 0 && dueAtOf(record) > now) {
      this.paused.pauseUntil(control.pause, dueAtOf(record), batch);
      return;
    }
    const key = `${batch.topic}:${batch.partition}`;
    if (this.jobs.size >= this.route.jobsAtOnce) {
      this.waiting.set(key, control.pause()); // read again from the job's record when a place is free
      return;
    }
    const abort = new AbortController();
    const resume = control.pause();
    const fields = { ...kafkaFields(batch), "kafka.offset": consumed.offset };
    this.log.info(fields, "long-running job started");
    const started = this.deps.clock.now();
    const done = (async () => {
      const out = new OutputBuffer();
      const outcome = await this.pipeline.run(record, out, abort.signal);
      if (abort.signal.aborted) return;
      if (outcome.kind === "blocked") {
        // A dependency is out of reach: the job runs again from its record once the backoff is over.
        this.paused.pauseUntil(() => () => resume(consumed.offset), outcome.retryAt, batch);
        return;
      }
      if (!(await this.write(batch, record, out, control))) return; // paused by the stall backoff, read again
      this.deps.metrics.consumed.inc({ processor: this.route.name, topic: batch.topic });
      control.resolveOffset(consumed.offset);
      this.log.info({ ...fields, "job.ms": this.deps.clock.now() - started }, "long-running job done");
      resume(String(BigInt(consumed.offset) + 1n));
    })()
      .catch((error: unknown) => {
        this.log.error({ err: error, ...fields }, "long-running job failed to finish: its partition is read again");
        if (!abort.signal.aborted) resume();
      })
      .finally(() => {
        if (this.jobs.get(key)?.abort === abort) this.jobs.delete(key);
        // Every waiting partition is read again: the first record to arrive takes the place, the others wait anew.
        // (Resuming one alone could stall them all: a partition may have nothing to hand over by then.)
        this.resumeWaiting(() => true);
      });
    this.jobs.set(key, { abort, done, resume });
  }

  /**
   * Aborts the jobs of the partitions `which` names, and waits until they have let go. Their partitions (and those
   * waiting for a place) are no longer held paused: the client would keep a partition paused across a rebalance
   * that gives it back.
   */
  private async abortJobs(which: (key: string) => boolean): Promise<void> {
    const aborted = [...this.jobs].filter(([key]) => which(key));
    for (const [key, job] of aborted) {
      this.log.warn({ partition: key }, "long-running job aborted: its partition's next owner runs it again");
      job.abort.abort();
    }
    await Promise.all(aborted.map(([, job]) => job.done));
    for (const [key, job] of aborted) this.resumeQuietly(key, job.resume);
    this.resumeWaiting(([key]) => which(key));
  }

  /** Resumes the waiting partitions `which` picks. */
  private resumeWaiting(which: (entry: [string, () => void]) => boolean): void {
    for (const entry of [...this.waiting].filter(which)) {
      this.waiting.delete(entry[0]);
      this.resumeQuietly(...entry);
    }
  }

  private resumeQuietly(key: string, resume: () => void): void {
    try {
      resume();
    } catch (error) {
      this.log.debug({ err: error, partition: key }, "resume after revoke");
    }
  }

  /**
   * A dependency is out of reach (`isOutage`): the record's partition waits and tries it again, with a backoff
   * doubling from half a second to 5 s, so it picks up within seconds of the dependency's return. The partition
   * counts as failing meanwhile: stalled on /health/ready after SLUICE_STALL_AFTER_MS. After SLUICE_OUTAGE_MAX_WAIT
   * (30 min) of it, the record goes to the DLQ (one a partition per wait): a failure the record itself causes (a
   * reset connection) must not hold its partition forever.
   */
  private waitForOutage(record: ReadRecord, error: unknown): number | undefined {
    const { topic, partition } = record.consumed;
    const since = this.stalls.failingSince(topic, partition);
    const maxWaitMs = this.deps.outageMaxWaitMs ?? DEFAULT_OUTAGE_MAX_WAIT_MS;
    if (since !== undefined && this.deps.clock.now() - since >= maxWaitMs) {
      this.log.error(
        { err: error, ...coordinates(record), waitedMs: this.deps.clock.now() - since },
        "waited the longest for a dependency: the record goes to the DLQ",
      );
      return undefined;
    }
    const first = since === undefined;
    const waitMs = Math.min(OUTAGE_MAX_BACKOFF_MS, this.stalls.failed(topic, partition, error));
    this.deps.metrics.retries.inc({ processor: this.route.name, topic: `${topic}.outage` });
    // Once a partition: its other records fail the same way meanwhile (the metric counts every try).
    this.log[first ? "warn" : "debug"](
      { err: error, ...coordinates(record), backoffMs: waitMs },
      "a dependency is out of reach: the partition waits and tries the record again",
    );
    return this.deps.clock.now() + waitMs;
  }

  /**
   * Writes the batch's records and offset, or backs off until it can (see StalledPartitions.attempt). A batch whose
   * transaction's outcome is unknown (COMMIT_UNKNOWN) is read again from where the broker says the group stands,
   * once the writer's new producer has settled that transaction: from after the batch if it committed after all.
   */
  private write(batch: RecordBatch, last: ReadRecord, out: OutputBuffer, control: BatchControl): Promise<boolean> {
    const { writer } = this;
    if (!writer) throw new SluiceError("NOT_STARTED", `processor ${this.route.name} is not started`);
    const next = String(BigInt(last.consumed.offset) + 1n);
    let from: string | undefined;
    const pause = () => {
      const resume = control.pause();
      return () => resume(from);
    };
    return this.stalls.attempt(batch, pause, () =>
      writer.write(batch, next, out).catch(async (error: unknown) => {
        if (!(error instanceof SluiceError && error.code === "COMMIT_UNKNOWN")) throw error;
        await writer.recovered();
        const committed = await this.committedOffset(batch);
        if (committed === next) return; // it committed after all: the batch is written
        from = committed;
        throw error;
      }),
    );
  }

  /**
   * The group's committed offset of a partition, as the broker has it once the unknown transaction is settled
   * (undefined when none is): asked again, with backoff, until the broker answers, for going on from a guess could
   * write a batch twice.
   */
  private async committedOffset(where: TopicPartition): Promise<string | undefined> {
    for (let attempt = 1; ; attempt++) {
      try {
        const committed = await committedOffsets(this.deps.kafka, this.route.group, [where.topic]);
        const offset = committed.find((c) => c.partition === where.partition)?.offset;
        return offset !== undefined && Number(offset) >= 0 ? offset : undefined;
      } catch (error) {
        if (!this.running) throw error;
        const waitMs = backoffMs(attempt);
        this.log.warn({ err: error, ...kafkaFields(where), backoffMs: waitMs }, "cannot read the committed offset yet");
        await sleep(this.deps.clock, waitMs);
      }
    }
  }
}
