/**
 * A log line as a `LogEvent`. A JSON line is read as ECS (what `@elastic/ecs-pino-format` writes: `@timestamp`,
 * `log.level`, `message`, `log.logger`, `trace.id`, `host.hostname`) or as plain pino (`time`, numeric `level`,
 * `msg`, `name`); every other field, nested objects flattened to dotted names, is kept as text in `fields`. A line
 * that is not a JSON object is a message of its own, its level read from a leading word such as `ERROR` or `[warn]`.
 */
import type { LogEvent, LogLevel } from "../../schemas/types.generated.ts";

const LEVELS: readonly LogLevel[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
/** pino's numeric levels: 10 trace, 20 debug, 30 info, 40 warn, 50 error, 60 fatal. */
const PINO_LEVELS = new Map<number, LogLevel>(LEVELS.map((level, i) => [10 * (i + 1), level]));
const LEVEL_ALIASES: Record<string, LogLevel> = { WARNING: "WARN", ERR: "ERROR", CRITICAL: "FATAL", PANIC: "FATAL" };

/** Fields read into the event itself, or that say nothing per line. */
const CONSUMED = new Set([
  "@timestamp",
  "time",
  "log.level",
  "level",
  "message",
  "msg",
  "log.logger",
  "name",
  "trace.id",
  "traceId",
  "host.hostname",
  "host.name",
  "hostname",
  "ecs.version",
  "v",
]);

export interface LineSource {
  /** The service the lines belong to: the record's key and `service.name`. */
  service: string;
  /** The host name when the line does not say. */
  host: string | null;
  /** The time when the line does not say, epoch ms. */
  now: number;
}

export function logEventOf(line: string, source: LineSource): LogEvent {
  const parsed = parseObject(line);
  return parsed ? fromObject(parsed, source) : fromText(line, source);
}

function fromObject(object: Record<string, unknown>, { service, host, now }: LineSource): LogEvent {
  const flat = flatten(object);
  const text = (...names: string[]) => {
    for (const name of names) {
      const value = flat.get(name);
      if (value !== undefined && value !== null) return String(value);
    }
    return null;
  };
  const fields: Record<string, string> = {};
  for (const [name, value] of flat) {
    if (CONSUMED.has(name) || value === null || value === undefined) continue;
    fields[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return {
    appId: service,
    timestamp: BigInt(timeOf(flat.get("@timestamp") ?? flat.get("time")) ?? now),
    level: levelOf(flat.get("log.level") ?? flat.get("level")) ?? "INFO",
    message: text("message", "msg") ?? "",
    logger: text("log.logger", "name"),
    traceId: text("trace.id", "traceId"),
    host: text("host.hostname", "host.name", "hostname") ?? host,
    fields,
  };
}

function fromText(line: string, { service, host, now }: LineSource): LogEvent {
  const word = /^\s*\[?([A-Za-z]+)\]?[\s:]/.exec(line)?.[1];
  return {
    appId: service,
    timestamp: BigInt(now),
    level: (word && levelOf(word)) || "INFO",
    message: line,
    logger: null,
    traceId: null,
    host,
    fields: {},
  };
}

function parseObject(line: string): Record<string, unknown> | undefined {
  if (!line.trimStart().startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** Nested objects as dotted names (`{ error: { type } }` is `error.type`); arrays and scalars as they are. */
function flatten(object: Record<string, unknown>, prefix = "", into = new Map<string, unknown>()) {
  for (const [name, value] of Object.entries(object)) {
    const key = prefix + name;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      flatten(value as Record<string, unknown>, `${key}.`, into);
    } else {
      into.set(key, value);
    }
  }
  return into;
}

function levelOf(value: unknown): LogLevel | undefined {
  if (typeof value === "number") return PINO_LEVELS.get(value);
  if (typeof value !== "string") return undefined;
  const upper = value.toUpperCase();
  return LEVELS.find((level) => level === upper) ?? LEVEL_ALIASES[upper];
}

function timeOf(value: unknown): number | undefined {
  const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
  return Number.isFinite(ms) ? Math.trunc(ms) : undefined;
}
