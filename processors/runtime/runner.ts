/**
 * Runs one processor: consumes its input topic and its group's retry tiers, calls the handler per record (keys
 * of one partition concurrently, each key in order), and writes outputs, retries and DLQ copies with the
 * batch's offsets: in one transaction (exactly-once), or produced then committed (at-least-once).
 *
 * A partition whose head is not due yet (a retry tier) or that is blocked (blocking policy) is paused and left
 * unresolved, so the consumer re-reads it from there when it resumes; the others keep flowing.
 */

import kafkaClient, { type KafkaJS } from "@confluentinc/kafka-javascript";
import type { Logger } from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { DELAY_TIERS, TOPICS, topicByName } from "../../topics/catalog.ts";
import { type Duration, toMs } from "../../topics/duration.ts";
import { type BusinessTopic, delayTopicName, dlqTopicName, retryTopicName } from "../../topics/topic.ts";
import type { Clock } from "./clock.ts";
import { SluiceError } from "./errors.ts";
import { classify, PermanentError, RetryableError } from "./failure.ts";
import { attemptOf, type FailureRoute, routeFailure } from "./failure-route.ts";
import { GroupCommit } from "./group-commit.ts";
import { HEADER, routingHeaders } from "./headers.ts";
import type { Consumer, Kafka, KafkaMessage, OutgoingMessage, Producer } from "./kafka-client.ts";
import { BOUNDED_PREFETCH, createProducer, readKeysToEnd, recordHeaders, textHeaders } from "./kafka-client.ts";
import { KeyOrder } from "./key-order.ts";
import type { Ledger } from "./ledger/ledger.ts";
import type { Metrics } from "./metrics.ts";
import { OutputBuffer } from "./output-buffer.ts";
import { PausedPartitions } from "./paused-partitions.ts";
import type { InputRecord, ProcessorDefinition } from "./processor.ts";
import { type ContextEnv, RecordContext } from "./record-context.ts";
import { dlqStub, recordCopy } from "./record-copy.ts";
import type { AvroSerde } from "./serde/avro-serde.ts";
import { type StalledPartition, StalledPartitions } from "./stalled-partitions.ts";
import { recordBytes, TopicLimits } from "./topic-limits.ts";

export interface RuntimeDeps {
  kafka: Kafka;
  serde: AvroSerde;
  schemas: Map<string, SchemaFile>;
  ledger?: Ledger | undefined;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  /**
   * This member's stable name (SLUICE_INSTANCE_ID, else the host name): its transactional ids derive from it,
   * so two processes running at once need different ids, and a restart should keep its id.
   */
  instanceId: string;
  /** Values larger than this go to the DLQ as VALUE_TOO_LARGE. */
  maxValueBytes?: number | undefined;
  /** The topic catalog (defaults to topics/catalog.ts): a team's own module or a test adds topics. */
  topics?: readonly BusinessTopic[] | undefined;
  /** Kafka's max.poll.interval.ms (SLUICE_MAX_POLL_INTERVAL_MS, default 5 minutes): bounds handlers and batches. */
  maxPollIntervalMs?: number | undefined;
  /** How long a partition's writes may fail before it counts as stalled (SLUICE_STALL_AFTER_MS, default 1 minute). */
  stallAfterMs?: number | undefined;
}

type Message = KafkaMessage;
type Outcome = { kind: "done" } | { kind: "blocked"; retryAt: number };

const DEFAULT_MAX_VALUE_BYTES = 1_048_576;
const REVOKE_PARTITIONS = kafkaClient.CODES.ERRORS.ERR__REVOKE_PARTITIONS;
const SESSION_TIMEOUT_MS = Number(process.env.SLUICE_SESSION_TIMEOUT_MS || 10_000);
const MAX_POLL_INTERVAL_MS = Number(process.env.SLUICE_MAX_POLL_INTERVAL_MS || 300_000);
const MAX_HANDLER_TIMEOUT_MS = 60_000;
const TRANSACTION_TIMEOUT_MS = 15_000;
const STALL_AFTER_MS = 60_000;
/** Partitions whose batches are processed at the same time (each batch commits on its own). */
const PARTITIONS_AT_ONCE = 8;

export class ProcessorRunner {
  readonly definition: ProcessorDefinition;
  private readonly deps: RuntimeDeps;
  private readonly topics: readonly BusinessTopic[];
  private readonly tiers: readonly Duration[];
  private readonly tierTopics: string[];
  private readonly consumer: Consumer;
  private producer: Producer | undefined;
  private readonly log: Logger;
  private readonly keyOrder = new KeyOrder();
  /** Blocking policy: failed attempts per `topic/partition/offset`. */
  private readonly blockedAttempts = new Map<string, number>();
  private readonly paused: PausedPartitions;
  private readonly stalls: StalledPartitions;
  /** The topics this processor writes, and how large a record each accepts. */
  private readonly limits: TopicLimits;
  private readonly dlqTopic: string;
  /** Exactly-once: transactions that carry the batches' records and offsets. */
  private groupCommit: GroupCommit | undefined;
  /**
   * Key-ordered: one batch at a time per partition number, for the input partition and its tiers' (which hold
   * the same keys), so that a batch can put back the key order it changed when its write fails.
   */
  private readonly lanes = new Map<number, Promise<void>>();
  /** The input topic's value schema, resolved once: records are read as it. */
  private readonly reader: SchemaFile | undefined;
  private readonly handlerSeconds: ReturnType<Metrics["handlerSeconds"]["labels"]>;
  /**
   * A member that does not poll for max.poll.interval.ms is evicted. A handler gets `handlerTimeoutMs`, after
   * which its record counts as a retryable failure; a batch starts no record after `batchBudgetMs`, and the
   * rest of it is read again. So a batch returns to the poll loop within half the interval, plus its commit.
   */
  private readonly handlerTimeoutMs: number;
  private readonly batchBudgetMs: number;
  private readonly contextEnv: ContextEnv;
  private running = false;

  constructor(definition: ProcessorDefinition, deps: RuntimeDeps) {
    this.definition = definition;
    this.deps = deps;
    this.topics = deps.topics ?? TOPICS;
    const input = this.topic(definition.input);
    const consumer = input?.consumers.find((c) => c.group === definition.group);
    if (!input || !consumer) {
      throw new SluiceError(
        "PROCESSOR_UNDECLARED",
        `processor ${definition.name}: topics/catalog.ts declares no group '${definition.group}' under '${definition.input}'`,
      );
    }
    this.tiers = consumer.retryTiers;
    this.reader = deps.schemas.get(input.valueSchema);
    this.handlerSeconds = deps.metrics.handlerSeconds.labels(definition.name);
    this.tierTopics = this.tiers.map((t) => retryTopicName(definition.input, definition.group, t));
    this.dlqTopic = dlqTopicName(definition.input, definition.group);
    this.log = deps.log.child({ "sluice.processor": definition.name, "kafka.group": definition.group });
    this.paused = new PausedPartitions(deps.clock, this.log);
    this.stalls = new StalledPartitions(definition.name, deps, deps.stallAfterMs ?? STALL_AFTER_MS);
    this.limits = new TopicLimits([
      ...this.tierTopics,
      this.dlqTopic,
      ...definition.outputs,
      ...DELAY_TIERS.map(delayTopicName),
    ]);
    const outputSchemas = new Map(
      definition.outputs.map((topic) => [topic, deps.schemas.get(this.topic(topic)?.valueSchema ?? "")]),
    );
    this.contextEnv = {
      definition,
      serde: deps.serde,
      clock: deps.clock,
      ledger: deps.ledger,
      log: this.log,
      outputSchema: (topic) => outputSchemas.get(topic),
      fits: (topic, message) => this.limits.fits(topic, message),
    };
    const maxPollIntervalMs = deps.maxPollIntervalMs ?? MAX_POLL_INTERVAL_MS;
    this.handlerTimeoutMs = definition.handlerTimeout
      ? toMs(definition.handlerTimeout)
      : Math.min(MAX_HANDLER_TIMEOUT_MS, maxPollIntervalMs / 4);
    if (this.handlerTimeoutMs > maxPollIntervalMs / 4) {
      throw new SluiceError(
        "HANDLER_TIMEOUT_TOO_LONG",
        `processor ${definition.name}: handlerTimeout ${definition.handlerTimeout} is more than a quarter of ` +
          `max.poll.interval.ms (${maxPollIntervalMs} ms); raise SLUICE_MAX_POLL_INTERVAL_MS or shorten the timeout`,
      );
    }
    this.batchBudgetMs = maxPollIntervalMs / 2 - this.handlerTimeoutMs;
    const exactlyOnce = definition.delivery === "exactly-once";
    this.consumer = deps.kafka.consumer({
      ...BOUNDED_PREFETCH,
      // What this member remembers about partitions (blocked attempts, keys waiting in the tiers) is only
      // true while it owns them: forget it when they go, and (key-ordered) read it back from the tiers when
      // they come. The default assignment handling runs once this returns (nothing: keep the assignment).
      rebalance_cb: async (error: { code: number }, assignment: { topic: string; partition: number }[]) => {
        const revoked = error.code === REVOKE_PARTITIONS;
        if (revoked) this.forgetPartitionState();
        deps.metrics.rebalances.inc(
          { processor: definition.name, event: revoked ? "revoked" : "assigned" },
          assignment.length,
        );
        if (!revoked && definition.retry === "key-ordered") await this.recoverKeyOrder(assignment);
      },
      // Static membership: a restarted member takes its partitions back at once, without a rebalance; one that
      // is gone for good is replaced after the session timeout (seconds, not Kafka's default 45).
      "group.instance.id": `${definition.group}.${deps.instanceId}`,
      "session.timeout.ms": SESSION_TIMEOUT_MS,
      "max.poll.interval.ms": maxPollIntervalMs,
      kafkaJS: {
        groupId: definition.group,
        fromBeginning: true,
        // Exactly-once commits offsets in its transactions; at-least-once commits what resolveOffset stored.
        autoCommit: !exactlyOnce,
        autoCommitInterval: 1_000,
        // Exactly-once reads only committed records; the range assignor gives a member the same partition of the
        // input and of every retry tier (equal partition counts), which key-ordered retries rely on.
        readUncommitted: false,
        partitionAssigners: ["range" as KafkaJS.PartitionAssigners],
      },
    });
  }

  async start(): Promise<void> {
    // Sized from the limits of the topics it writes, so a record that fits its topic is never refused locally.
    await this.limits.refresh();
    const exactlyOnce = this.definition.delivery === "exactly-once";
    const { group, name } = this.definition;
    const producer = createProducer(this.deps.kafka, {
      "linger.ms": 5,
      ...this.limits.producerConfig(),
      // A restarted member reuses its transactional id, which aborts the transaction its previous life left
      // open at once; without that, read_committed consumers would wait out the transaction timeout.
      ...(exactlyOnce
        ? { "transaction.timeout.ms": TRANSACTION_TIMEOUT_MS, "socket.timeout.ms": TRANSACTION_TIMEOUT_MS }
        : {}),
      kafkaJS: exactlyOnce
        ? { transactionalId: `${group}.${this.deps.instanceId}`, idempotent: true, maxInFlightRequests: 1 }
        : { idempotent: true },
    });
    this.producer = producer;
    const transactionSeconds = this.deps.metrics.transactionSeconds.labels(name);
    this.groupCommit = exactlyOnce
      ? new GroupCommit(producer, this.consumer, (seconds) => transactionSeconds.observe(seconds))
      : undefined;
    await this.producer.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [this.definition.input, ...this.tierTopics] });
    this.running = true;
    await this.consumer.run({
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: PARTITIONS_AT_ONCE,
      eachBatch: (payload) => this.onBatch(payload),
    });
    this.log.info({ topics: [this.definition.input, ...this.tierTopics] }, "processor started");
  }

  private forgetPartitionState(): void {
    this.keyOrder.clear();
    this.blockedAttempts.clear();
    this.stalls.clear();
  }

  /**
   * Key-ordered, on assignment: which keys of the new partitions have records waiting in the retry tiers (read
   * from the group's committed offsets to the tiers' ends), so a new record of such a key still waits behind
   * them after a restart or a rebalance. The runner reads the same records from the same offsets, and each
   * one read takes its key's count back down.
   */
  private async recoverKeyOrder(assignment: { topic: string; partition: number }[]): Promise<void> {
    const partitions = assignment.filter((a) => a.topic === this.definition.input).map((a) => a.partition);
    if (partitions.length === 0 || this.tierTopics.length === 0) return;
    const started = performance.now();
    try {
      const admin = this.deps.kafka.admin();
      await admin.connect();
      const committed = await admin
        .fetchOffsets({ groupId: this.definition.group, topics: this.tierTopics })
        .finally(() => admin.disconnect());
      const startOf = (topic: string, partition: number) => {
        const offset = Number(
          committed.find((c) => c.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset ?? -1,
        );
        return offset >= 0 ? offset : undefined; // nothing committed yet: from the beginning, as the runner reads
      };
      let records = 0;
      await readKeysToEnd(
        this.tierTopics.flatMap((topic) =>
          partitions.map((partition) => ({ topic, partition, offset: startOf(topic, partition) })),
        ),
        (topic, _partition, key) => {
          this.keyOrder.added(key, this.tierTopics.indexOf(topic));
          records++;
        },
      );
      this.log.info(
        { partitions, records, ms: Math.round(performance.now() - started) },
        "key order read back from the retry tiers",
      );
    } catch (error) {
      this.log.error(
        { err: error },
        "could not read the retry tiers: new records of keys waiting there are not held back behind them",
      );
    }
  }

  get isRunning(): boolean {
    return this.running;
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
    await this.consumer.disconnect();
    await this.groupCommit?.idle();
    await this.producer?.disconnect();
    this.log.info("processor stopped");
  }

  private async onBatch(payload: KafkaJS.EachBatchPayload): Promise<void> {
    if (this.definition.retry !== "key-ordered") return this.processBatch(payload);
    // Key-ordered: the input partition and its tiers' take turns (see `lanes`).
    const { partition } = payload.batch;
    const turn = (this.lanes.get(partition) ?? Promise.resolve()).then(() => this.processBatch(payload));
    const settled = turn.catch(() => {});
    this.lanes.set(partition, settled);
    void settled.then(() => {
      if (this.lanes.get(partition) === settled) this.lanes.delete(partition);
    });
    return turn;
  }

  private async processBatch(payload: KafkaJS.EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const now = this.deps.clock.now();
    const tierIndex = this.tierTopics.indexOf(batch.topic);
    let messages = batch.messages;
    let resumeAt: number | undefined;
    // A batch read again after its write failed: a topic's max.message.bytes may have changed meanwhile.
    if (this.stalls.failing(batch.topic, batch.partition)) await this.limits.refresh().catch(() => {});
    if (tierIndex >= 0) {
      // A tier's records fall due in arrival order: stop at the first one not yet due.
      const firstNotDue = messages.findIndex((m) => dueAtOf(m) > now);
      if (firstNotDue >= 0) {
        resumeAt = dueAtOf(messages[firstNotDue] as Message);
        messages = messages.slice(0, firstNotDue);
      }
    }
    // Key-ordered: the batch's keys as they were, to put back if its write fails and it is read again.
    const keysBefore =
      this.definition.retry === "key-ordered" ? this.keyOrder.snapshotKeys(messages.map(keyOf)) : undefined;
    const out = new OutputBuffer();
    const { processed, blockedUntil } = await this.processMessages(
      batch.topic,
      batch.partition,
      tierIndex,
      messages,
      out,
      now + this.batchBudgetMs,
    );
    if (processed < messages.length && blockedUntil === undefined) {
      this.log.debug(
        { "kafka.topic": batch.topic, "kafka.partition": batch.partition, processed, batch: messages.length },
        "batch time budget spent: the rest is read again",
      );
    }
    resumeAt = blockedUntil ?? resumeAt;
    const last = messages[processed - 1];
    if (last) {
      if (payload.isStale()) return; // revoked meanwhile: the new owner re-reads from the committed offset
      this.stalls.writing(batch.topic, batch.partition);
      try {
        await this.commit(batch.topic, batch.partition, last.offset, out);
      } catch (error) {
        // Nothing of the batch is committed: it is read again, after a backoff, until its write succeeds.
        if (keysBefore) this.keyOrder.restoreKeys(keysBefore);
        const backoffMs = this.stalls.failed(batch.topic, batch.partition, error);
        this.log.error(
          { err: error, "kafka.topic": batch.topic, "kafka.partition": batch.partition, backoffMs },
          "could not write the batch's records and offsets: it is read again",
        );
        this.paused.pauseUntil(payload.pause, this.deps.clock.now() + backoffMs, batch);
        return;
      }
      this.stalls.written(batch.topic, batch.partition);
      this.deps.metrics.consumed.inc({ processor: this.definition.name, topic: batch.topic }, processed);
      payload.resolveOffset(last.offset);
      this.observeLag(batch, last);
    }
    if (resumeAt !== undefined) this.paused.pauseUntil(payload.pause, resumeAt, batch);
  }

  /**
   * Runs the handler over `messages`, starting none but the first after `deadline`; returns how many (from the
   * start) are finished. Their outputs are in `out`; the ones after them are read again.
   */
  private async processMessages(
    topic: string,
    partition: number,
    tierIndex: number,
    messages: Message[],
    out: OutputBuffer,
    deadline: number,
  ): Promise<{ processed: number; blockedUntil?: number }> {
    const { clock } = this.deps;
    if (this.definition.retry === "blocking" || (this.definition.keyConcurrency ?? 1) <= 1) {
      for (const [i, message] of messages.entries()) {
        if (i > 0 && clock.now() >= deadline) return { processed: i };
        const outcome = await this.processOne(topic, partition, tierIndex, message, out);
        if (outcome.kind === "blocked") return { processed: i, blockedUntil: outcome.retryAt };
      }
      return { processed: messages.length };
    }
    // Virtual partitions: each key in order, different keys at once, at most keyConcurrency keys at a time.
    const byKey = new Map<string, number[]>();
    for (const [i, m] of messages.entries()) {
      const key = m.key?.toString() ?? "";
      const list = byKey.get(key) ?? [];
      list.push(i);
      byKey.set(key, list);
    }
    const queues = [...byKey.values()];
    const outs = messages.map(() => new OutputBuffer());
    const done = messages.map(() => false);
    // Key-ordered: each record's key state before it ran, to undo the records that are read again.
    const before = new Map<number, readonly number[] | undefined>();
    const keyOrdered = this.definition.retry === "key-ordered";
    const workers = Array.from({ length: Math.min(this.definition.keyConcurrency ?? 1, queues.length) }, async () => {
      for (let queue = queues.shift(); queue; queue = queues.shift()) {
        for (const i of queue) {
          if (i > 0 && clock.now() >= deadline) return;
          const message = messages[i] as Message;
          if (keyOrdered) before.set(i, this.keyOrder.snapshot(keyOf(message)));
          await this.processOne(topic, partition, tierIndex, message, outs[i] as OutputBuffer);
          done[i] = true;
        }
      }
    });
    await Promise.all(workers);
    // Only a gap-free prefix commits: a record finished after an unfinished one is read again with it.
    const unfinished = done.indexOf(false);
    const processed = unfinished < 0 ? messages.length : unfinished;
    for (const buffer of outs.slice(0, processed)) out.merge(buffer);
    if (keyOrdered) {
      const undone = new Set<string>();
      for (let i = processed; i < messages.length; i++) {
        const key = messages[i]?.key?.toString() ?? "";
        if (undone.has(key)) continue;
        undone.add(key);
        // A key's records run in order, so its first record past the prefix holds the state to go back to.
        if (done[i]) this.keyOrder.restore(key, before.get(i));
      }
    }
    return { processed };
  }

  private async processOne(
    topic: string,
    partition: number,
    tierIndex: number,
    message: Message,
    out: OutputBuffer,
  ): Promise<Outcome> {
    const key = keyOf(message);
    const headers = textHeaders(message.headers);
    if (this.definition.retry === "key-ordered") {
      const decision = tierIndex < 0 ? this.keyOrder.onInput(key) : this.keyOrder.onRetry(key, tierIndex);
      if (decision.action === "park") {
        this.park({ topic, partition, message }, tierIndex >= 0 ? headers : {}, decision.tierIndex, out);
        return { kind: "done" };
      }
    }
    const started = performance.now();
    const recordOut = new OutputBuffer();
    const blockedId = `${topic}/${partition}/${message.offset}`;
    // Blocking retries stay on the input topic: their attempt is counted here. Only a tier's attempt header is
    // Sluice's own; on the input topic it is whatever the producer wrote.
    const blocked = this.blockedAttempts.get(blockedId);
    const attempt = tierIndex >= 0 ? attemptOf(headers) : (blocked ?? 0) + 1;
    try {
      const record = await this.decode(topic, partition, message, key, headers, attempt);
      await this.runHandler(record, recordOut);
      out.merge(recordOut);
      this.blockedAttempts.delete(blockedId);
      return { kind: "done" };
    } catch (error) {
      return this.onFailure({ topic, partition, tierIndex, message, headers, attempt }, error, out);
    } finally {
      this.handlerSeconds.observe((performance.now() - started) / 1000);
    }
  }

  /** The handler, bounded by the handler timeout; a late handler's outputs are dropped with `recordOut`. */
  private runHandler(record: InputRecord<unknown>, recordOut: OutputBuffer): Promise<void> {
    const ctx = new RecordContext(this.contextEnv, record, recordOut);
    const handled = this.definition.handler(record as never, ctx);
    return new Promise((resolve, reject) => {
      const timer = this.deps.clock.after(this.handlerTimeoutMs, () => {
        const error = new RetryableError(
          `handler did not finish within ${this.handlerTimeoutMs} ms`,
          "HANDLER_TIMEOUT",
        );
        ctx.abort(error);
        reject(error);
      });
      handled.then(
        () => {
          timer.cancel();
          resolve();
        },
        (error: unknown) => {
          timer.cancel();
          reject(error);
        },
      );
    });
  }

  private async decode(
    topic: string,
    partition: number,
    message: Message,
    key: string,
    headers: Record<string, string>,
    attempt: number,
  ): Promise<InputRecord<unknown>> {
    const maxBytes = this.deps.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES;
    if (message.value === null) throw new PermanentError("record has no value", "MISSING_VALUE");
    if (message.value.length > maxBytes) {
      throw new PermanentError(
        `value is ${message.value.length} bytes, more than the ${maxBytes} this processor accepts`,
        "VALUE_TOO_LARGE",
      );
    }
    if (!headers[HEADER.eventId]) {
      throw new PermanentError(`record has no ${HEADER.eventId} header (the idempotency key)`, "MISSING_HEADER");
    }
    const { value } = await this.deps.serde.decode(message.value, this.reader?.type);
    return {
      topic,
      sourceTopic: this.definition.input,
      partition,
      offset: message.offset,
      key,
      value,
      headers,
      timestamp: Number(message.timestamp),
      attempt,
    };
  }

  private onFailure(failed: Failed, error: unknown, out: OutputBuffer): Outcome {
    const { topic, partition, tierIndex, message, headers, attempt } = failed;
    const { clock, metrics } = this.deps;
    const now = clock.now();
    const name = this.definition.name;
    if (this.definition.retry === "blocking" && !classify(error).permanent) {
      const id = `${topic}/${partition}/${message.offset}`;
      const backoff = this.definition.blockingBackoff ?? this.tiers;
      const wait = backoff[attempt - 1];
      if (wait !== undefined) {
        this.blockedAttempts.set(id, attempt);
        metrics.retries.inc({ processor: name, topic: `${topic}.blocking` });
        this.log.warn({ err: error, attempt, ...coordinates(topic, partition, message) }, "blocked: retrying");
        return { kind: "blocked", retryAt: now + toMs(wait) };
      }
      this.blockedAttempts.delete(id);
    }
    const route = routeFailure(
      { sourceTopic: this.definition.input, topic, partition, offset: message.offset, attempt, headers },
      error,
      this.definition.group,
      // Blocking retries happen in place; once they are spent, the record goes to the DLQ.
      this.definition.retry === "blocking" ? [] : this.keyOrderedTiers(message, tierIndex),
      now,
    );
    const { topic: written, copy } = this.copy(failed, route.topic, route.headers);
    out.add(written, copy);
    if (written !== this.dlqTopic) {
      metrics.retries.inc({ processor: name, topic: written });
      if (this.definition.retry === "key-ordered")
        this.keyOrder.added(keyOf(message), this.tierTopics.indexOf(written));
    } else {
      metrics.dlq.inc({ processor: name, error_class: route.headers[HEADER.errorClass] ?? "unknown" });
    }
    this.log.warn(
      { err: error, route: written, ...coordinates(topic, partition, message) },
      `record sent to ${written === this.dlqTopic ? "dlq" : route.kind}`,
    );
    return { kind: "done" };
  }

  /**
   * The copy of `message` for `topic` with Sluice's `routing` headers; a DLQ stub in the DLQ instead when the
   * copy would not fit `topic` (a record that cannot move on must not hold its partition back).
   */
  private copy(
    consumed: Consumed,
    topic: string,
    routing: FailureRoute["headers"],
  ): { topic: string; copy: OutgoingMessage } {
    const { message } = consumed;
    const record = { key: message.key, value: message.value, headers: recordHeaders(message) };
    const copy = recordCopy(record, routing);
    if (this.limits.fits(topic, copy)) return { topic, copy };
    const why = `a copy of ${recordBytes(copy)} bytes does not fit ${topic} (${this.limits.maxBytes(topic)} bytes at most)`;
    this.log.warn(
      { ...coordinates(consumed.topic, consumed.partition, message), why },
      "DLQ stub written in place of the record's copy",
    );
    return { topic: this.dlqTopic, copy: dlqStub(record, routing, why) };
  }

  /** Key-ordered: a failing record never moves to a tier below older records of its key. */
  private keyOrderedTiers(message: Message, tierIndex: number): readonly Duration[] {
    if (this.definition.retry !== "key-ordered") return this.tiers;
    const floor = Math.max(this.keyOrder.floorTier(keyOf(message)), tierIndex);
    return this.tiers.map((tier, i) => this.tiers[Math.max(i, floor)] ?? tier);
  }

  /**
   * Key-ordered: a record of a key with older records in the tiers waits behind them, in tier `tierIndex`. One
   * read from a tier keeps its history (`tierHeaders`, its routing headers).
   */
  private park(consumed: Consumed, tierHeaders: Record<string, string>, tierIndex: number, out: OutputBuffer): void {
    const tier = this.tierTopics[tierIndex];
    if (!tier) throw new SluiceError("TIER_MISSING", `no retry tier ${tierIndex}`);
    const routing = {
      ...routingHeaders(tierHeaders),
      [HEADER.parked]: "true",
      // Due at once: it waits behind the older records of its key, which the tier delivers first.
      [HEADER.dueAt]: String(this.deps.clock.now()),
    };
    const { topic, copy } = this.copy(consumed, tier, routing);
    out.add(topic, copy);
    if (topic === tier) this.keyOrder.added(keyOf(consumed.message), tierIndex);
  }

  /** Writes the batch's records and its offset: one transaction, or produce-then-commit. */
  private async commit(topic: string, partition: number, lastOffset: string, out: OutputBuffer): Promise<void> {
    const topicMessages = out.topicMessages();
    if (this.groupCommit) {
      await this.groupCommit.submit(topic, partition, String(BigInt(lastOffset) + 1n), out);
    } else if (topicMessages.length > 0 && this.producer) {
      // At-least-once: the outputs are acknowledged before the offset is stored; the consumer commits stored
      // offsets every second, and on revoke and close, so no commit is ever ahead of an unwritten output.
      await this.producer.sendBatch({ topicMessages });
    }
    for (const { topic: written, messages } of topicMessages) {
      this.deps.metrics.produced.inc({ processor: this.definition.name, topic: written }, messages.length);
    }
  }

  private topic(name: string): BusinessTopic | undefined {
    return topicByName(name, this.topics);
  }

  private observeLag(batch: KafkaJS.Batch, last: Message): void {
    const labels = { processor: this.definition.name, topic: batch.topic, partition: String(batch.partition) };
    this.deps.metrics.lagRecords.set(labels, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    const reference = this.tierTopics.includes(batch.topic) ? dueAtOf(last) : Number(last.timestamp);
    this.deps.metrics.lagSeconds.set(labels, Math.max(0, (this.deps.clock.now() - reference) / 1000));
  }
}

/** A record where it was read. */
interface Consumed {
  topic: string;
  partition: number;
  message: Message;
}

interface Failed extends Consumed {
  tierIndex: number;
  headers: Record<string, string>;
  attempt: number;
}

const keyOf = (message: Message): string => message.key?.toString() ?? "";

function dueAtOf(message: Message): number {
  const raw = textHeaders(message.headers)[HEADER.dueAt];
  const due = Number(raw);
  return Number.isFinite(due) ? due : 0;
}

function coordinates(topic: string, partition: number, message: Message) {
  return { "kafka.topic": topic, "kafka.partition": partition, "kafka.offset": message.offset };
}
