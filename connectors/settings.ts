/**
 * The connectors' own settings, read from the environment once, on first use, through the runtime's config
 * helpers (a bad value is a one-line error naming the variable).
 */
import { durationVar, textVar } from "../runtime/index.ts";

export interface ConnectorSettings {
  /** SLUICE_LOGS_RETENTION: log indices whose whole day is older than this are deleted (daily, and `logs prune`). */
  logsRetentionMs: number;
  /** SLUICE_SHIP_LOGS_AS: the service name under which `sluice run` ships its own logs to logs.app; unset: not shipped. */
  shipLogsAs: string | undefined;
}

let settings: ConnectorSettings | undefined;

export function connectorSettings(): ConnectorSettings {
  const { env } = process;
  settings ??= {
    logsRetentionMs: durationVar(env, "SLUICE_LOGS_RETENTION", "7d"),
    shipLogsAs: textVar(env, "SLUICE_SHIP_LOGS_AS"),
  };
  return settings;
}
