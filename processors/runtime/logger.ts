/** pino with ECS field names, so Kibana reads the runtime's logs as they are. */
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino, { type Logger } from "pino";

export function createLogger(name: string): Logger {
  return pino({ ...ecsFormat(), name, level: process.env.SLUICE_LOG_LEVEL || "info" });
}

/** The ECS-style fields that place a record: a handler's log line says which record it was about. */
export function recordFields(record: { topic: string; partition: number; offset: string; key: string }) {
  return {
    "kafka.topic": record.topic,
    "kafka.partition": record.partition,
    "kafka.offset": record.offset,
    "kafka.key": record.key,
  };
}
