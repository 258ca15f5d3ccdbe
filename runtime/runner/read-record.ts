/** A consumed record as the runner handles it: where it was read, its key as text, its headers parsed once. */
import { HEADER, textHeaders } from "../headers.ts";
import type { ConsumedRecord } from "../kafka/port.ts";
import { kafkaFields } from "../logger.ts";
import { attemptOf } from "./failure-route.ts";

export interface ReadRecord {
  /** The record as read: its coordinates, key, value and headers byte for byte. */
  consumed: ConsumedRecord;
  key: string;
  /** The headers as text: the first value of each name. */
  headers: Record<string, string>;
  /** Which of the group's retry tiers it was read from; -1 for the input topic. */
  tierIndex: number;
}

export function readRecord(consumed: ConsumedRecord, tierIndex: number): ReadRecord {
  return { consumed, key: consumed.key?.toString() ?? "", headers: textHeaders(consumed.headers), tierIndex };
}

/** A record replayed into the input for another group (HEADER.replayGroup): this group skips it. */
export function replayedForAnother(record: ReadRecord, group: string): boolean {
  const replayGroup = record.headers[HEADER.replayGroup];
  return record.tierIndex < 0 && replayGroup !== undefined && replayGroup !== group;
}

/** The ECS fields that place a record in a log line. */
export function coordinates({ consumed }: ReadRecord) {
  return kafkaFields({ topic: consumed.topic, partition: consumed.partition, offset: consumed.offset });
}

/** The attempt a record is on as read: its `attempt` header on a tier; 1 on the input, whatever it carries. */
export function attemptAsRead(record: ReadRecord): number {
  return record.tierIndex >= 0 ? attemptOf(record.headers) : 1;
}

/** When a record read from a tier is due (its `due-at` header; 0 when it has none). */
export function dueAtOf(record: ReadRecord): number {
  const due = Number(record.headers[HEADER.dueAt]);
  return Number.isFinite(due) ? due : 0;
}
