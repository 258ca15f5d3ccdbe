/**
 * The outbox relay: publishes the outbox's committed rows to Kafka in id order (within a key, commit order: see
 * outbox.ts), each with its row's event id, then marks them published; deletes published rows after the retention.
 * LISTEN/NOTIFY wakes it as soon as a writer commits; it also polls, in case a notification is lost.
 *
 * One relay publishes at a time: it holds a session-level advisory lock for as long as it runs, and a second
 * relay waits for it (a standby). Each key's order holds with any number of relays.
 *
 * At-least-once, checked back against the database: the database is the source of truth, so a relay that died
 * between Kafka's acknowledgement and the mark (or before either) leaves the rows unmarked, and the next relay
 * publishes them again with the same event ids, which consumers' `ctx.once` drops. A row is never lost: only what
 * Kafka acknowledged is marked.
 *
 * A row larger than its topic takes on the cluster (an operator lowered `max.message.bytes` below what the outbox
 * checks) would be refused on every attempt and hold up its topic for good: it is set aside instead, its reason in
 * the `refused` column, logged as an error, and the topic's later rows go on.
 */

import path from "node:path";
import type pg from "pg";
import type { Logger } from "pino";
import {
  type Admin,
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  crashPoint,
  HEADER,
  headerList,
  type KafkaPort,
  migrate,
  newPool,
  type Producer,
  recordBytes,
} from "../../runtime/index.ts";
import { OUTBOX_CHANNEL } from "./outbox.ts";

export const OUTBOX_MIGRATIONS = path.join(import.meta.dirname, "migrations");
const RELAY_LOCK = "sluice_outbox_relay";
const TOPICS_TTL_MS = 2_000;
/** How long a topic's `max.message.bytes` is trusted before it is read again. */
const LIMITS_TTL_MS = 30_000;

export interface OutboxRelayOptions {
  databaseUrl: string;
  kafka: KafkaPort;
  log: Logger;
  /** Rows published at once. Default: 500. */
  batch?: number;
  /** How often it looks without a notification. Default: 1s. */
  pollMs?: number;
  /** How long published rows are kept. Default: 1 day. */
  retentionMs?: number;
  /** Whether writers' notifications wake it (false: it polls alone). Default: true. */
  listen?: boolean;
}

interface Row {
  id: string;
  event_id: string;
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export class OutboxRelay {
  private readonly options: OutboxRelayOptions;
  private readonly pool: pg.Pool;
  private producer: Producer | undefined;
  private session: pg.PoolClient | undefined;
  private wake: (() => void) | undefined;
  /** A writer committed since the last look. */
  private notified = false;
  private stopping = false;
  /** Topics Kafka refused or does not have, left out until then. */
  private readonly blocked = new Map<string, { until: number; backoffMs: number }>();
  private admin: Admin | undefined;
  /** The topics Kafka has, as last looked up. */
  private topics: { names: Set<string>; at: number } | undefined;
  /** Each topic's `max.message.bytes`, as last read. */
  private readonly limits = new Map<string, { bytes: number; at: number }>();
  private running: Promise<void> | undefined;
  published = 0;

  constructor(options: OutboxRelayOptions) {
    this.options = options;
    this.pool = newPool({ connectionString: options.databaseUrl, max: 2 });
  }

  /** Resolves once this relay holds the lock and publishes (a standby waits here); then runs until stopped. */
  async start(): Promise<void> {
    await migrate(this.pool, [OUTBOX_MIGRATIONS]);
    // A topic Kafka does not know fails its rows in 30s instead of librdkafka's 5 minutes (then it waits, see publishBatch).
    // Sized for the broker's default limit, which the outbox checks (librdkafka's own default is below it).
    this.producer = this.options.kafka.producer({
      lingerMs: 1,
      deliveryTimeoutMs: 30_000,
      maxMessageBytes: BROKER_DEFAULT_MAX_MESSAGE_BYTES,
    });
    await this.producer.connect();
    this.admin = this.options.kafka.admin();
    await this.admin.connect();
    const session = await this.pool.connect();
    this.session = session;
    while (!this.stopping) {
      const { rows } = await session.query<{ locked: boolean }>("SELECT pg_try_advisory_lock(hashtext($1)) AS locked", [
        RELAY_LOCK,
      ]);
      if (rows[0]?.locked) break;
      await this.sleep(1_000);
    }
    if (this.stopping) return;
    session.on("notification", () => {
      this.notified = true;
      this.wake?.();
    });
    if (this.options.listen ?? true) await session.query(`LISTEN ${OUTBOX_CHANNEL}`);
    this.options.log.info("outbox relay publishing");
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.running;
    this.session?.release(true); // the session's end releases the lock
    await this.producer?.disconnect();
    await this.admin?.disconnect();
    await this.pool.end();
  }

  private async run(): Promise<void> {
    const { batch = 500, pollMs = 1_000, retentionMs = 86_400_000, log } = this.options;
    let pruned = 0;
    while (!this.stopping) {
      let published = 0;
      this.notified = false; // what commits from here on is looked for again
      try {
        published = await this.publishBatch(batch);
        if (Date.now() - pruned > 60_000) {
          await this.pool.query(
            "DELETE FROM sluice_outbox WHERE published_at < now() - $1 * interval '1 millisecond'",
            [retentionMs],
          );
          pruned = Date.now();
        }
      } catch (error) {
        log.warn({ err: error }, "outbox relay could not publish: trying again");
      }
      if (published < batch) await this.sleep(pollMs);
    }
  }

  /**
   * Publishes the oldest unpublished rows, each topic's at the same time, marking a topic's rows once Kafka has them;
   * returns how many it looked at. A topic Kafka does not have (deleted, not created yet) or refuses is left out
   * for a doubling backoff, without a send that would wait out the delivery timeout, so its rows wait without
   * holding up the others.
   */
  private async publishBatch(batch: number): Promise<number> {
    const now = Date.now();
    const blocked = [...this.blocked].filter(([, b]) => b.until > now).map(([topic]) => topic);
    const { rows } = await this.pool.query<Row>(
      `SELECT id, event_id, topic, key, value, headers FROM sluice_outbox
       WHERE published_at IS NULL AND refused IS NULL AND NOT (topic = ANY($2::text[])) ORDER BY id LIMIT $1`,
      [batch, blocked],
    );
    if (rows.length === 0) return 0;
    const known = await this.knownTopics();
    await Promise.all(
      [...Map.groupBy(rows, (row) => row.topic)].map(([topic, topicRows]) =>
        known.has(topic) ? this.publishTopic(topic, topicRows) : this.block(topic, `Kafka has no topic ${topic}`),
      ),
    );
    return rows.length;
  }

  private async publishTopic(topic: string, rows: Row[]): Promise<void> {
    try {
      const limit = await this.limit(topic);
      const tooLarge = new Set<Row>();
      const messages = [];
      for (const row of rows) {
        const headers = headerList({ [HEADER.eventId]: row.event_id, ...row.headers });
        const message = { key: row.key, value: row.value, headers };
        if (recordBytes(message) > limit) tooLarge.add(row);
        else messages.push(message);
      }
      if (tooLarge.size > 0) {
        await this.refuse([...tooLarge], limit);
        rows = rows.filter((row) => !tooLarge.has(row));
      }
      if (rows.length === 0) return;
      await this.producer?.send([{ topic, messages }]);
    } catch (error) {
      this.block(topic, error);
      return;
    }
    this.blocked.delete(topic);
    crashPoint("outbox.produced");
    await this.pool.query("UPDATE sluice_outbox SET published_at = now() WHERE id = ANY($1::bigint[])", [
      rows.map((r) => r.id),
    ]);
    this.published += rows.length;
  }

  /** Sets aside rows their topic cannot take: kept with the reason, never published. */
  private async refuse(rows: Row[], limit: number): Promise<void> {
    const reason = `VALUE_TOO_LARGE: larger than the topic's max.message.bytes (${limit})`;
    await this.pool.query("UPDATE sluice_outbox SET refused = $2 WHERE id = ANY($1::bigint[])", [
      rows.map((r) => r.id),
      reason,
    ]);
    for (const row of rows) {
      this.options.log.error(
        { "kafka.topic": row.topic, "outbox.id": row.id, "event.id": row.event_id, "value.bytes": row.value.length },
        "outbox row set aside: larger than its topic takes",
      );
    }
  }

  /** The largest record `topic` takes, read from the cluster at most every LIMITS_TTL_MS. */
  private async limit(topic: string): Promise<number> {
    const known = this.limits.get(topic);
    if (known && Date.now() - known.at < LIMITS_TTL_MS) return known.bytes;
    const configs = await this.admin?.topicConfigs([topic], ["max.message.bytes"]);
    const bytes = Math.min(
      BROKER_DEFAULT_MAX_MESSAGE_BYTES,
      Number(configs?.get(topic)?.["max.message.bytes"]) || BROKER_DEFAULT_MAX_MESSAGE_BYTES,
    );
    this.limits.set(topic, { bytes, at: Date.now() });
    return bytes;
  }

  private block(topic: string, reason: unknown): void {
    const backoffMs = Math.min(60_000, 2 * (this.blocked.get(topic)?.backoffMs ?? 2_500));
    this.blocked.set(topic, { until: Date.now() + backoffMs, backoffMs });
    const err = reason instanceof Error ? reason : new Error(String(reason));
    this.options.log.warn({ err, "kafka.topic": topic, backoffMs }, "outbox rows of a topic not published");
  }

  /** The topics Kafka has, looked up again when older than a few seconds (a topic created since is found then). */
  private async knownTopics(): Promise<Set<string>> {
    if (!this.topics || Date.now() - this.topics.at > TOPICS_TTL_MS) {
      this.topics = { names: new Set(await this.admin?.listTopics()), at: Date.now() };
    }
    return this.topics.names;
  }

  /** Waits `ms`, or until a notification or stop. */
  private sleep(ms: number): Promise<void> {
    if (this.notified || this.stopping) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.wake?.(), ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
