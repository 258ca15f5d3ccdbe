/**
 * The reference rules: too many ERRORs from a service, every FATAL, heartbeat services gone silent, and from the
 * lag monitor's events (ops/lag/lag-monitor.ts, run by `sluice dashboard`) a group behind on its input and a DLQ
 * that grows, each per group.
 */
import { connectorSettings } from "../settings.ts";
import type { AlertRule } from "./rules.ts";

/** The service name of the lag monitor's log events. */
export const LAG_MONITOR_APP = "sluice-lag-monitor";

export function defaultRules(): AlertRule[] {
  const { errorThreshold, errorWindowMs, repeatMs, heartbeatServices, silenceMs, lagSeconds } =
    connectorSettings().alertRules;
  const heartbeats = new Set(heartbeatServices);
  return [
    {
      kind: "frequency",
      name: "errors-per-service",
      severity: "WARNING",
      match: (event) => event.level === "ERROR" || event.level === "FATAL",
      threshold: errorThreshold,
      window: errorWindowMs,
      repeatInterval: repeatMs,
      summary: (service) => `${service}: ${errorThreshold} or more errors within ${errorWindowMs / 1000}s`,
    },
    {
      kind: "any",
      name: "fatal",
      severity: "CRITICAL",
      match: (event) => event.level === "FATAL",
      summary: (service) => `${service} logged a FATAL`,
    },
    {
      kind: "flatline",
      name: "silent-service",
      severity: "CRITICAL",
      match: (event) => heartbeats.has(event.appId),
      window: silenceMs,
      repeatInterval: repeatMs,
      summary: (service) => `${service} has logged nothing for ${silenceMs / 1000}s`,
    },
    lagMonitorRule("consumer-lag", (group) => `${group} is more than ${lagSeconds}s behind on its input`),
    lagMonitorRule("dlq-growth", (group) => `${group}'s dead-letter queue is growing`),
  ];

  /** Fires on the monitor's first event for a group, resolves once a minute passes without one. */
  function lagMonitorRule(name: string, summary: (group: string) => string): AlertRule {
    return {
      kind: "frequency",
      name,
      severity: "WARNING",
      match: (event) => event.appId === LAG_MONITOR_APP && event.fields.alert === name,
      key: (event) => event.fields.group ?? "",
      threshold: 1,
      window: "1m",
      repeatInterval: repeatMs,
      summary,
    };
  }
}
