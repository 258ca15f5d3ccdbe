/**
 * Ships a Node service's log lines to `logs.app`, keyed by service, as Avro `LogEvent`s, compressed. A pino
 * destination: `pino(options, pino.multistream([{ stream: process.stdout }, { stream: shipper }]))`.
 *
 * It never blocks or crashes the service: `write` only queues the line (a bounded queue: a line that finds it
 * full is dropped and counted), and a background loop sends the queue in batches. When Kafka is slow or down the
 * loop retries the same batch with a backoff while the queue fills and then drops; when Kafka is back it drains.
 * `close` flushes what is queued within a deadline, and counts what it could not send as dropped.
 */
import { hostname } from "node:os";
import type { AvroSerde, KafkaPort, Producer } from "../../runtime/index.ts";
import { logEventOf } from "./log-line.ts";
import { type LogProducer, logProducer, resendDelayMs } from "./log-producer.ts";

export interface LogShipperOptions {
  /** The service the lines belong to: the records' key and `service.name` in Elasticsearch. */
  service: string;
  /** Default: the configured cluster (KAFKA_BROKERS). */
  kafka?: KafkaPort;
  /** Default: the configured registry (SCHEMA_REGISTRY_URL). */
  serde?: AvroSerde;
  /** Lines queued at most; more are dropped and counted. Default: 10,000. */
  maxQueuedLines?: number;
  /** Lines per request at most. Default: 500. */
  batchLines?: number;
}

export interface ShipperStats {
  shipped: number;
  dropped: number;
  queued: number;
  /** Sends that failed (each retried). */
  failedSends: number;
}

export class LogShipper {
  private readonly service: string;
  private readonly host = hostname();
  private readonly maxQueued: number;
  private readonly batchLines: number;
  private readonly producer: Producer;
  private readonly events: LogProducer["events"];
  private queue: { line: string; at: number }[] = [];
  private readonly counts = { shipped: 0, dropped: 0, failedSends: 0 };
  private wake: (() => void) | undefined;
  private closing = false;
  /** close() has returned: its counts are final, whatever a send still in flight does. */
  private closed = false;
  private readonly pumping: Promise<void>;

  constructor(options: LogShipperOptions) {
    this.service = options.service;
    this.maxQueued = options.maxQueuedLines ?? 10_000;
    this.batchLines = options.batchLines ?? 500;
    ({ producer: this.producer, events: this.events } = logProducer(`log-shipper-${this.service}`, options));
    this.pumping = this.pump();
  }

  /** Queues the lines of `chunk` (pino writes one line at a time); never throws, never waits. */
  write(chunk: string): boolean {
    const at = Date.now();
    for (const line of chunk.split("\n")) {
      if (line.trim() === "") continue;
      if (this.closing || this.queue.length >= this.maxQueued) this.counts.dropped++;
      else this.queue.push({ line, at });
    }
    this.wake?.();
    return true;
  }

  stats(): ShipperStats {
    return { ...this.counts, queued: this.queue.length };
  }

  /**
   * Sends what is queued, within `deadlineMs`; a line Kafka has not acknowledged by then counts as dropped (even
   * if a send in flight still delivers it).
   */
  async close(deadlineMs = 5_000): Promise<ShipperStats> {
    this.closing = true;
    this.wake?.();
    const deadline = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([this.pumping, deadline]);
    this.counts.dropped += this.queue.length;
    this.queue = [];
    this.closed = true;
    await Promise.race([this.producer.disconnect().catch(() => {}), deadline]);
    return this.stats();
  }

  private async pump(): Promise<void> {
    let connected = false;
    for (let failures = 0; ; ) {
      if (this.queue.length === 0) {
        if (this.closing) return;
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = undefined;
        continue;
      }
      const batch = this.queue.slice(0, this.batchLines);
      try {
        if (!connected) await this.producer.connect();
        connected = true;
        const events = batch.map(({ line, at }) =>
          logEventOf(line, { service: this.service, host: this.host, now: at }),
        );
        await this.events.send("logs.app", events);
        if (this.closed) return;
        this.queue.splice(0, batch.length);
        this.counts.shipped += batch.length;
        failures = 0;
      } catch {
        // Kafka or the registry is down or slow: the same batch again after a backoff, the queue filling meanwhile.
        if (this.closed) return;
        this.counts.failedSends++;
        failures++;
        await sleep(resendDelayMs(failures));
      }
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
