/**
 * A `LogEvent` as an Elasticsearch document with ECS field names, so Kibana reads it as it is. A `fields` entry
 * whose name is one of the typed ECS fields of the index template (`http.response.status_code`, `client.ip`, ...)
 * becomes that field, so it can be ranged and aggregated on; every other one is a keyword under `labels`.
 */
import type { LogEvent } from "../../schemas/types.generated.ts";
import { TYPED_ECS_FIELDS } from "./index-template.ts";

/** Daily indices, one pattern: `logs-YYYY.MM.DD` of the event's UTC day. */
export const LOG_INDEX_PREFIX = "logs-";
export const LOG_INDEX_PATTERN = `${LOG_INDEX_PREFIX}*`;

export interface LogDocument {
  index: string;
  /** The record's event id: a redelivered record overwrites its document instead of adding one. */
  id: string;
  source: Record<string, unknown>;
}

export function logDocument(event: LogEvent, eventId: string): LogDocument {
  const timestamp = new Date(Number(event.timestamp)).toISOString();
  const source: Record<string, unknown> = {
    "@timestamp": timestamp,
    message: event.message,
    log: { level: event.level.toLowerCase(), ...(event.logger === null ? {} : { logger: event.logger }) },
    service: { name: event.appId },
    event: { id: eventId },
    ...(event.traceId === null ? {} : { trace: { id: event.traceId } }),
    ...(event.host === null ? {} : { host: { name: event.host } }),
  };
  const labels: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.fields)) {
    if (TYPED_ECS_FIELDS.has(name)) source[name] = value;
    else labels[name.replaceAll(".", "_")] = value;
  }
  if (Object.keys(labels).length > 0) source.labels = labels;
  return { index: indexOfDay(timestamp), id: eventId, source };
}

export function logIndexOf(epochMs: number): string {
  return indexOfDay(new Date(epochMs).toISOString());
}

/** The index of an ISO-8601 UTC time's day. */
function indexOfDay(iso: string): string {
  return `${LOG_INDEX_PREFIX}${iso.slice(0, 4)}.${iso.slice(5, 7)}.${iso.slice(8, 10)}`;
}

/** The UTC day (epoch ms of its midnight) a daily log index holds, or undefined for any other name. */
export function dayOfLogIndex(index: string): number | undefined {
  const match = /^logs-(\d{4})\.(\d{2})\.(\d{2})$/.exec(index);
  if (!match) return undefined;
  const day = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]));
  return Number.isNaN(day) || logIndexOf(day) !== index ? undefined : day;
}
