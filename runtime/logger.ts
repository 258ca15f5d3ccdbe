/** pino with ECS field names, so Kibana reads the runtime's logs as they are. */
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino, { type Logger } from "pino";
import type { LogLevel } from "./config.ts";

export function createLogger(name: string, level: LogLevel): Logger {
  return pino({ ...ecsFormat(), name, level });
}
