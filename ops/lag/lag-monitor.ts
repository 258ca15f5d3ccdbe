/**
 * Lag over time, for the dashboard and the alerts: every `everyMs` the broker's offsets are read again
 * (ops/lag/lag.ts) and each group is summed up: its input's lag in records and seconds, its retry tiers', its
 * DLQ's depth and age, and its throughput (records it consumed since the last sample, a second). The last hour is
 * kept. With `alerts`, each sample also writes WARN log events to logs.app for a group whose input lag is over
 * `lagSeconds` and for a DLQ that grew: the alerting connector's `consumer-lag` and `dlq-growth` rules turn them
 * into alerts (connectors/alerting/default-rules.ts), resolved once the events stop.
 */
import { hostname } from "node:os";
import { LAG_MONITOR_APP } from "../../connectors/alerting/default-rules.ts";
import type { LogProducer } from "../../connectors/log-shipper/log-producer.ts";
import type { KafkaPort, Route } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import { groupLag, type PartitionLag } from "./lag.ts";

export interface GroupFigures {
  group: string;
  input: string;
  lagRecords: number;
  lagSeconds: number;
  tierRecords: number;
  tierSeconds: number;
  dlqRecords: number;
  dlqSeconds: number;
  /** Records consumed a second (input and tiers) since the sample before; null on the first. */
  throughput: number | null;
  /** Input and tier records consumed, all time: what the throughput is the slope of. */
  consumed: number;
}

export interface LagSample {
  at: number;
  groups: GroupFigures[];
}

export interface LagMonitorOptions {
  kafka: KafkaPort;
  routes: readonly Route[];
  everyMs: number;
  /** Samples kept: an hour's by default. */
  keep?: number;
  /** Where a failed sample is reported. */
  onError: (error: unknown) => void;
  alerts?: { logs: LogProducer; lagSeconds: number };
}

export class LagMonitor {
  readonly #options: LagMonitorOptions;
  readonly #samples: LagSample[] = [];
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LagMonitorOptions) {
    this.#options = options;
  }

  /** Samples now, then every `everyMs` until stopped (a sample still under way is not started twice). */
  start(): void {
    const tick = () => {
      this.#running ??= this.sample()
        .then(() => {}, this.#options.onError)
        .finally(() => {
          this.#running = undefined;
        });
    };
    tick();
    this.#timer = setInterval(tick, this.#options.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
  }

  samples(): readonly LagSample[] {
    return this.#samples;
  }

  async sample(now = Date.now()): Promise<LagSample> {
    const previous = this.#samples.at(-1);
    const groups = summarizeGroups(
      this.#options.routes,
      await groupLag(this.#options.kafka, this.#options.routes, now),
    );
    for (const figures of groups) {
      const before = previous?.groups.find((g) => g.group === figures.group);
      const seconds = previous ? (now - previous.at) / 1000 : 0;
      figures.throughput = before && seconds > 0 ? Math.max(0, (figures.consumed - before.consumed) / seconds) : null;
    }
    const sample = { at: now, groups };
    this.#samples.push(sample);
    if (this.#samples.length > (this.#options.keep ?? Math.ceil(3_600_000 / this.#options.everyMs))) {
      this.#samples.shift();
    }
    if (this.#options.alerts) await this.#alert(sample, previous);
    return sample;
  }

  async #alert(sample: LagSample, previous: LagSample | undefined): Promise<void> {
    const { logs, lagSeconds } = this.#options.alerts as NonNullable<LagMonitorOptions["alerts"]>;
    const events: LogEvent[] = [];
    const event = (message: string, fields: Record<string, string>): LogEvent => ({
      appId: LAG_MONITOR_APP,
      timestamp: BigInt(sample.at),
      level: "WARN",
      message,
      logger: "lag-monitor",
      traceId: null,
      host: hostname(),
      fields,
    });
    for (const g of sample.groups) {
      if (g.lagSeconds > lagSeconds) {
        events.push(
          event(`${g.group} is ${g.lagSeconds.toFixed(0)}s behind on ${g.input}`, {
            alert: "consumer-lag",
            group: g.group,
            topic: g.input,
            seconds: g.lagSeconds.toFixed(1),
            records: String(g.lagRecords),
          }),
        );
      }
      const before = previous?.groups.find((p) => p.group === g.group);
      if (before && g.dlqRecords > before.dlqRecords) {
        events.push(
          event(`${g.group}'s DLQ grew by ${g.dlqRecords - before.dlqRecords} to ${g.dlqRecords}`, {
            alert: "dlq-growth",
            group: g.group,
            added: String(g.dlqRecords - before.dlqRecords),
            depth: String(g.dlqRecords),
          }),
        );
      }
    }
    if (events.length > 0) await logs.events.send("logs.app", events);
  }
}

/** One line per group: its partitions summed, the oldest age of each kind. */
export function summarizeGroups(routes: readonly Route[], lags: readonly PartitionLag[]): GroupFigures[] {
  const groups = new Map<string, GroupFigures>();
  for (const route of routes) {
    if (groups.has(route.group)) continue;
    groups.set(route.group, {
      group: route.group,
      input: route.input,
      lagRecords: 0,
      lagSeconds: 0,
      tierRecords: 0,
      tierSeconds: 0,
      dlqRecords: 0,
      dlqSeconds: 0,
      throughput: null,
      consumed: 0,
    });
  }
  for (const lag of lags) {
    const g = groups.get(lag.group);
    if (!g) continue;
    if (lag.kind === "input") {
      g.lagRecords += lag.records;
      g.lagSeconds = Math.max(g.lagSeconds, lag.seconds);
    } else if (lag.kind === "tier") {
      g.tierRecords += lag.records;
      g.tierSeconds = Math.max(g.tierSeconds, lag.seconds);
    } else {
      g.dlqRecords += lag.records;
      g.dlqSeconds = Math.max(g.dlqSeconds, lag.seconds);
    }
    if (lag.kind !== "dlq") g.consumed += lag.end - lag.records;
  }
  return [...groups.values()];
}
