/**
 * How a delay travels through the fixed-delay tiers. Every record waits exactly its tier's delay in a tier, so a
 * tier's records fall due in arrival order and a consumer only waits for each partition's head. A long delay
 * cascades down (1h, then 10m, ...); what is left below the smallest tier is waited out in the router's memory
 * (the `0s` tier carries delays shorter than a second straight there).
 */
import { type Duration, toMs } from "../../topics/duration.ts";
import { delayTopicName } from "../../topics/topic.ts";
import { HEADER, replaceHeaders } from "../headers.ts";
import type { ConsumedRecord, OutgoingMessage } from "../kafka/port.ts";
import { DELAY_TIERS } from "../route.ts";

export const DELAY_HEADER = {
  target: "delay-target-topic",
  hopDueAt: "delay-hop-due-at",
} as const;

export interface Hop {
  topic: string;
  hopDueAt: number;
}

/** The tier a record with `remainingMs` to wait goes to next, from `now`. */
export function nextHop(remainingMs: number, now: number, tiers: readonly Duration[] = DELAY_TIERS): Hop {
  let chosen: Duration | undefined;
  for (const tier of tiers) if (toMs(tier) <= remainingMs) chosen = tier;
  const tier = chosen ?? tiers[0] ?? "0s";
  return { topic: delayTopicName(tier), hopDueAt: now + toMs(tier) };
}

/** The headers that steer a record through the tiers; its target does not get them. */
const HOP_HEADERS: ReadonlySet<string> = new Set([DELAY_HEADER.hopDueAt]);
const DELAY_HEADERS: ReadonlySet<string> = new Set([DELAY_HEADER.target, DELAY_HEADER.hopDueAt]);

export type Outgoing = { topic: string; message: OutgoingMessage };

/**
 * What to do with a scheduled record now: send it (down to the next tier, or to its target when due, with how late
 * it is), or hold it in memory until `until` (a hop not over yet, or a remainder under the smallest tier).
 */
export type DelayStep =
  | ({ kind: "send"; lateMs?: number } & Outgoing)
  | { kind: "hold"; until: number; lateMs?: undefined };

export function delayStep(
  record: Pick<ConsumedRecord, "key" | "value" | "headers">,
  headers: Readonly<Record<string, string>>,
  now: number,
  smallestWaitMs: number,
): DelayStep {
  const hopDueAt = Number(headers[DELAY_HEADER.hopDueAt] ?? 0);
  if (hopDueAt > now) return { kind: "hold", until: hopDueAt };
  const dueAt = Number(headers[HEADER.dueAt] ?? 0);
  const remaining = dueAt - now;
  if (remaining <= 0) {
    return {
      kind: "send",
      lateMs: -remaining,
      topic: headers[DELAY_HEADER.target] ?? "",
      // The record's timestamp is the moment it was found due: never before its due-at.
      message: {
        key: record.key,
        value: record.value,
        headers: replaceHeaders(record.headers, DELAY_HEADERS, {}),
        timestamp: now,
      },
    };
  }
  if (remaining < smallestWaitMs) return { kind: "hold", until: dueAt };
  const hop = nextHop(remaining, now);
  const forwarded = replaceHeaders(record.headers, HOP_HEADERS, { [DELAY_HEADER.hopDueAt]: String(hop.hopDueAt) });
  return { kind: "send", topic: hop.topic, message: { key: record.key, value: record.value, headers: forwarded } };
}
