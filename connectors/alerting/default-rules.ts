/** The reference rules: too many ERRORs from a service, every FATAL, and heartbeat services gone silent. */
import { connectorSettings } from "../settings.ts";
import type { AlertRule } from "./rules.ts";

export function defaultRules(): AlertRule[] {
  const { errorThreshold, errorWindowMs, repeatMs, heartbeatServices, silenceMs } = connectorSettings().alertRules;
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
  ];
}
