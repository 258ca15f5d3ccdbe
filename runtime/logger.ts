/** pino with ECS field names, so Kibana reads the runtime's logs as they are. */
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.ts";

/** The ECS fields that place a log line: a partition, and the offset and key where there are ones (pino omits the rest). */
export function kafkaFields(at: { topic: string; partition: number; offset?: string; key?: string }) {
  return { "kafka.topic": at.topic, "kafka.partition": at.partition, "kafka.offset": at.offset, "kafka.key": at.key };
}

export function createLogger(name: string, level: LogLevel): Logger {
  return pino({ ...ecsFormat(), name, level });
}
