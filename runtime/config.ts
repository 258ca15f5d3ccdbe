/**
 * The one configuration boundary: the environment is read and validated here, once, and nowhere else. Every
 * address and credential has a local default (the stack `sluice stack up` starts), so the same code runs against
 * a managed cluster by setting variables. A bad value is a ConfigError naming the variable: one line, exit 2.
 */
import { hostname } from "node:os";
import { redact } from "../schemas/registry-client.ts";
import { type Duration, parseDuration } from "../topics/duration.ts";
import { ConfigError } from "../topics/errors.ts";

export { redact };

export interface Endpoints {
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  elasticsearchUrl: string;
  databaseUrl: string;
  redisUrl: string;
}

export const LOCAL_ENDPOINTS: Endpoints = {
  kafkaBrokers: ["127.0.0.1:9092"],
  schemaRegistryUrl: "http://127.0.0.1:8081/apis/ccompat/v7",
  elasticsearchUrl: "http://127.0.0.1:9200",
  databaseUrl: "postgres://postgres@127.0.0.1:5432/test",
  redisUrl: "redis://127.0.0.1:6379",
};

export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface RuntimeConfig extends Endpoints {
  /**
   * This member's stable name (SLUICE_INSTANCE_ID, else the host name): its static group memberships and
   * transactional ids derive from it, so two processes running at once need different ids, and a restart keeps it.
   */
  instanceId: string;
  /** SLUICE_HTTP_PORT: /metrics and /health. */
  httpPort: number;
  /** SLUICE_HTTP_HOST: the address the HTTP servers listen on (127.0.0.1; 0.0.0.0 in a container or a pod). */
  httpHost: string;
  /** SLUICE_LOG_LEVEL. */
  logLevel: LogLevel;
  /** SLUICE_MAX_POLL_INTERVAL_MS: Kafka's max.poll.interval.ms, which bounds handlers and batches. */
  maxPollIntervalMs: number;
  /** SLUICE_SESSION_TIMEOUT_MS: how soon a member that is gone for good is replaced. */
  sessionTimeoutMs: number;
  /** SLUICE_STALL_AFTER_MS: how long a partition's writes may fail before it counts as stalled. */
  stallAfterMs: number;
  /**
   * SLUICE_OUTAGE_MAX_WAIT: how long a partition waits in place for a dependency out of reach before its record
   * goes to the DLQ after all (a connection reset the record itself causes must not hold it forever).
   */
  outageMaxWaitMs: number;
  /** SLUICE_HEAP_MB: the old-generation heap of `sluice run`, when set. */
  heapMb: number | undefined;
  /** SLUICE_REPLICATION_FACTOR: of every topic `sluice topics apply` creates. */
  replicationFactor: number;
  /** SLUICE_SCHEMAS_DIR: where the .avsc files are, when not the project's schemas/. */
  schemasDir: string | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const brokers = textVar(env, "KAFKA_BROKERS")
    ?.split(",")
    .map((b) => b.trim())
    .filter(Boolean);
  return {
    kafkaBrokers: brokers?.length ? brokers : LOCAL_ENDPOINTS.kafkaBrokers,
    schemaRegistryUrl: url(env, "SCHEMA_REGISTRY_URL", LOCAL_ENDPOINTS.schemaRegistryUrl),
    elasticsearchUrl: url(env, "ELASTICSEARCH_URL", LOCAL_ENDPOINTS.elasticsearchUrl),
    databaseUrl: url(env, "DATABASE_URL", LOCAL_ENDPOINTS.databaseUrl),
    redisUrl: url(env, "REDIS_URL", LOCAL_ENDPOINTS.redisUrl),
    instanceId: textVar(env, "SLUICE_INSTANCE_ID") ?? hostname(),
    httpPort: integerVar(env, "SLUICE_HTTP_PORT", 9400, { max: 65_535 }),
    httpHost: textVar(env, "SLUICE_HTTP_HOST") ?? "127.0.0.1",
    logLevel: oneOf(env, "SLUICE_LOG_LEVEL", LOG_LEVELS, "info"),
    maxPollIntervalMs: integerVar(env, "SLUICE_MAX_POLL_INTERVAL_MS", 300_000, { min: 1_000 }),
    sessionTimeoutMs: integerVar(env, "SLUICE_SESSION_TIMEOUT_MS", 10_000, { min: 1_000 }),
    stallAfterMs: integerVar(env, "SLUICE_STALL_AFTER_MS", 60_000),
    outageMaxWaitMs: durationVar(env, "SLUICE_OUTAGE_MAX_WAIT", "30m"),
    heapMb:
      textVar(env, "SLUICE_HEAP_MB") === undefined ? undefined : integerVar(env, "SLUICE_HEAP_MB", 0, { min: 16 }),
    replicationFactor: integerVar(env, "SLUICE_REPLICATION_FACTOR", 1),
    schemasDir: textVar(env, "SLUICE_SCHEMAS_DIR"),
  };
}

let loaded: RuntimeConfig | undefined;

/** The process's configuration: read from the environment on first use, then kept. */
export function runtimeConfig(): RuntimeConfig {
  loaded ??= loadConfig();
  return loaded;
}

/** A variable's value, or undefined when it is unset or empty. */
export function textVar(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A whole number from `name` (at least `min`, default 1), or `fallback` when unset. */
export function integerVar(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  const value = textVar(env, name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new ConfigError(`${name} must be a whole number from ${min} to ${max}, got '${value}'`);
  }
  return n;
}

/** A duration from `name` (500ms, 5s, 10m, 1h, 7d) in milliseconds, or `fallback` when unset. */
export function durationVar(env: NodeJS.ProcessEnv, name: string, fallback: Duration): number {
  const value = textVar(env, name) ?? fallback;
  const ms = parseDuration(value);
  if (ms === undefined)
    throw new ConfigError(`${name} must be a duration such as 500ms, 5s, 10m or 1h, got '${value}'`);
  return ms;
}

function oneOf<T extends string>(env: NodeJS.ProcessEnv, name: string, allowed: readonly T[], fallback: T): T {
  const value = textVar(env, name) ?? fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(`${name} must be one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

function url(env: NodeJS.ProcessEnv, name: string, fallback: string): string {
  const value = textVar(env, name) ?? fallback;
  try {
    new URL(value);
  } catch {
    throw new ConfigError(`${name} must be a URL, got '${redact(value)}'`);
  }
  return value.replace(/\/+$/, "");
}
