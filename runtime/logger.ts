/** pino with ECS field names, so Kibana reads the runtime's logs as they are. */
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.ts";

/** The ECS fields that place a log line: a partition, and the offset and key where there are ones (pino omits the rest). */
export function kafkaFields(at: { topic: string; partition: number; offset?: string; key?: string }) {
  return { "kafka.topic": at.topic, "kafka.partition": at.partition, "kafka.offset": at.offset, "kafka.key": at.key };
}

/** A logger to stdout, and to `alsoTo` too when given (a log shipper). */
export function createLogger(name: string, level: LogLevel, alsoTo?: pino.DestinationStream): Logger {
  if (!alsoTo) return pino({ ...ecsFormat(), name, level });
  const streams = [{ stream: process.stdout }, { stream: alsoTo }].map((s) => ({
    ...s,
    level: pino.levels.values[level] ?? 0,
  }));
  return pino({ ...ecsFormat(), name, level }, pino.multistream(streams));
}
