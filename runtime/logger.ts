/** pino with ECS field names, so Kibana reads the runtime's logs as they are. */
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.ts";
import { redactText } from "./secrets.ts";

/** The ECS fields that place a log line: a partition, and the offset and key where there are ones (pino omits the rest). */
export function kafkaFields(at: { topic: string; partition: number; offset?: string; key?: string }) {
  return { "kafka.topic": at.topic, "kafka.partition": at.partition, "kafka.offset": at.offset, "kafka.key": at.key };
}

/** Fields that hold a credential wherever they appear in a log call's object. */
const SECRET_FIELDS = ["password", "secret", "token", "authorization", "apiKey", "credentials"];

/**
 * pino's options for every Sluice logger: ECS fields; credential fields censored; and each line, once written out,
 * stripped of the environment's credentials and of URLs' passwords (runtime/secrets.ts), wherever they appear (an
 * error's message, a config value).
 */
export function loggerOptions(name: string, level: LogLevel): pino.LoggerOptions {
  return {
    ...ecsFormat(),
    name,
    level,
    redact: { paths: SECRET_FIELDS.flatMap((f) => [f, `*.${f}`]), censor: "***" },
    hooks: { streamWrite: (line) => redactText(line) },
  };
}

/** A logger to stdout, and to `alsoTo` too when given (a log shipper). */
export function createLogger(name: string, level: LogLevel, alsoTo?: pino.DestinationStream): Logger {
  if (!alsoTo) return pino(loggerOptions(name, level));
  const streams = [{ stream: process.stdout }, { stream: alsoTo }].map((s) => ({
    ...s,
    level: pino.levels.values[level] ?? 0,
  }));
  return pino(loggerOptions(name, level), pino.multistream(streams));
}
