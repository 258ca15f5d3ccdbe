/**
 * How a delay travels through the fixed-delay tiers. Every record waits exactly its tier's delay in a tier, so a
 * tier's records fall due in arrival order and a consumer only waits for each partition's head. A long delay
 * cascades down (1h, then 10m, ...); what is left below the smallest tier is waited out in the router's memory
 * (the `0s` tier carries delays shorter than a second straight there).
 */
import { type Duration, toMs } from "../../topics/duration.ts";
import { delayTopicName } from "../../topics/topic.ts";
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
