/**
 * Writes a record that cannot be handled now where it goes next: a retry tier or the DLQ (a failure), or behind
 * older records of its key in a tier (a park). The copy carries the record byte for byte with Sluice's routing
 * headers; a copy its topic cannot take becomes a DLQ stub, so that no record holds its partition back.
 */
import type { Logger } from "pino";
import type { Duration } from "../../topics/duration.ts";
import type { Clock } from "../clock.ts";
import { HEADER, routingHeaders } from "../headers.ts";
import type { OutgoingMessage } from "../kafka/port.ts";
import type { Metrics } from "../metrics.ts";
import type { OutputBuffer } from "../output-buffer.ts";
import type { Route } from "../route.ts";
import { recordBytes, type TopicLimits } from "../topic-limits.ts";
import { routeFailure } from "./failure-route.ts";
import { coordinates, type ReadRecord } from "./read-record.ts";
import { dlqStub, recordCopy } from "./record-copy.ts";

export interface FailureCopiesDeps {
  route: Route;
  limits: TopicLimits;
  clock: Clock;
  metrics: Metrics;
  log: Logger;
}

/** Where a copy went: the index of the tier it was written to, or -1 for the DLQ. */
export type Written = number;

export class FailureCopies {
  private readonly deps: FailureCopiesDeps;

  constructor(deps: FailureCopiesDeps) {
    this.deps = deps;
  }

  /** Sends a failed record to its next tier among `tiers`, or to the DLQ when they are spent or it is permanent. */
  failed(record: ReadRecord, attempt: number, error: unknown, tiers: readonly Duration[], out: OutputBuffer): Written {
    const { route, clock, metrics, log } = this.deps;
    const { consumed } = record;
    const next = routeFailure(
      {
        sourceTopic: route.input,
        topic: consumed.topic,
        partition: consumed.partition,
        offset: consumed.offset,
        attempt,
        headers: record.headers,
      },
      error,
      route.group,
      tiers,
      clock.now(),
    );
    const written = this.write(record, next.topic, next.headers, out);
    if (written >= 0) {
      metrics.retries.inc({ processor: route.name, topic: next.topic });
    } else {
      metrics.dlq.inc({ processor: route.name, error_class: next.headers[HEADER.errorClass] ?? "unknown" });
    }
    log.warn(
      { err: error, route: written >= 0 ? next.topic : route.dlqTopic, ...coordinates(record) },
      `record sent to ${written >= 0 ? "retry" : "dlq"}`,
    );
    return written;
  }

  /**
   * Parks a record behind the older records of its key in tier `tierIndex`, due at once (it waits behind them in
   * the tier). One read from a tier keeps its history.
   */
  park(record: ReadRecord, tierIndex: number, out: OutputBuffer): Written {
    const routing = {
      ...(record.tierIndex >= 0 ? routingHeaders(record.headers) : {}),
      [HEADER.parked]: "true",
      [HEADER.dueAt]: String(this.deps.clock.now()),
    };
    return this.write(record, this.deps.route.tierTopics[tierIndex] ?? this.deps.route.dlqTopic, routing, out);
  }

  private write(record: ReadRecord, topic: string, routing: Record<string, string>, out: OutputBuffer): Written {
    const { route, limits, log } = this.deps;
    const { consumed } = record;
    const copy: OutgoingMessage = recordCopy(consumed, routing);
    if (limits.fits(topic, copy)) {
      out.add(topic, copy);
      return route.tierTopics.indexOf(topic);
    }
    const why = `a copy of ${recordBytes(copy)} bytes does not fit ${topic} (${limits.maxBytes(topic)} bytes at most)`;
    log.warn({ ...coordinates(record), why }, "DLQ stub written in place of the record's copy");
    out.add(route.dlqTopic, dlqStub(consumed, routing, why));
    return -1;
  }
}
