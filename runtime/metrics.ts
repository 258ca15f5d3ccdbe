/** The runtime's Prometheus metrics, one registry per process, served on /metrics. */
import client from "prom-client";

export class Metrics {
  readonly registry = new client.Registry();
  readonly consumed = new client.Counter({
    name: "sluice_records_consumed_total",
    help: "Records read, by processor and topic",
    labelNames: ["processor", "topic"],
    registers: [this.registry],
  });
  readonly produced = new client.Counter({
    name: "sluice_records_produced_total",
    help: "Records written, by processor and topic",
    labelNames: ["processor", "topic"],
    registers: [this.registry],
  });
  readonly handlerSeconds = new client.Histogram({
    name: "sluice_handler_duration_seconds",
    help: "Handler run time per record",
    labelNames: ["processor"],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [this.registry],
  });
  readonly retries = new client.Counter({
    name: "sluice_retries_total",
    help: "Records sent to a retry tier, by tier topic",
    labelNames: ["processor", "topic"],
    registers: [this.registry],
  });
  readonly dlq = new client.Counter({
    name: "sluice_dlq_total",
    help: "Records sent to a DLQ, by error class",
    labelNames: ["processor", "error_class"],
    registers: [this.registry],
  });
  readonly transactionSeconds = new client.Histogram({
    name: "sluice_transaction_duration_seconds",
    help: "Exactly-once: from a transaction's start to its commit, each carrying the batches that were ready",
    labelNames: ["processor"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly writeFailures = new client.Counter({
    name: "sluice_write_failures_total",
    help: "Batches whose outputs and offsets could not be written (the batch is read again after a backoff)",
    labelNames: ["processor", "topic"],
    registers: [this.registry],
  });
  readonly stalledSince = new client.Gauge({
    name: "sluice_partition_stalled_since_seconds",
    help: "Unix time since which a partition's writes have been failing; absent while it makes progress",
    labelNames: ["processor", "topic", "partition"],
    registers: [this.registry],
  });
  readonly rebalances = new client.Counter({
    name: "sluice_rebalance_events_total",
    help: "Partitions assigned to or revoked from this member (a revocation nobody asked for is an eviction)",
    labelNames: ["processor", "event"],
    registers: [this.registry],
  });
  readonly lagRecords = new client.Gauge({
    name: "sluice_lag_records",
    help: "Records between a partition's high watermark and the last processed offset",
    labelNames: ["processor", "topic", "partition"],
    registers: [this.registry],
  });
  readonly lagSeconds = new client.Gauge({
    name: "sluice_lag_seconds",
    help: "Age of the last processed record when it was processed (retry tiers: time past due)",
    labelNames: ["processor", "topic", "partition"],
    registers: [this.registry],
  });
  readonly delayLateness = new client.Histogram({
    name: "sluice_delay_lateness_seconds",
    help: "How long after its due time a scheduled record was delivered",
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly sinkBatchRecords = new client.Histogram({
    name: "sluice_sink_batch_records",
    help: "Records per batch a sink wrote",
    labelNames: ["processor"],
    buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  readonly sinkWriteSeconds = new client.Histogram({
    name: "sluice_sink_write_duration_seconds",
    help: "How long a sink's batch write took, by outcome (ok: every record acknowledged or rejected for good)",
    labelNames: ["processor", "outcome"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 30],
    registers: [this.registry],
  });
  readonly sinkInFlightBytes = new client.Gauge({
    name: "sluice_sink_in_flight_bytes",
    help: "Bytes of records a sink read and has not yet acknowledged (partitions pause above its bound)",
    labelNames: ["processor"],
    registers: [this.registry],
  });
  readonly sinkRetries = new client.Counter({
    name: "sluice_sink_retries_total",
    help: "Records a sink will write again after a transient failure (their partition paused meanwhile)",
    labelNames: ["processor"],
    registers: [this.registry],
  });

  /** A partition's lag after a batch: records up to its end, and the age of the last record processed. */
  observeLag(
    processor: string,
    batch: { topic: string; partition: number; highWatermark: string },
    lastOffset: number,
    ageMs: number,
  ): void {
    const labels = { processor, topic: batch.topic, partition: String(batch.partition) };
    this.lagRecords.set(labels, Math.max(0, Number(batch.highWatermark) - lastOffset - 1));
    this.lagSeconds.set(labels, Math.max(0, ageMs / 1000));
  }

  constructor() {
    client.collectDefaultMetrics({ register: this.registry, prefix: "sluice_process_" });
  }
}
