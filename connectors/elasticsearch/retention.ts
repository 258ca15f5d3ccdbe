/**
 * Retention of the daily log indices: an index goes once its whole day is older than the retention (the local
 * Elasticsearch has no ILM). Run daily by the sink and by `sluice logs prune --older-than 7d`.
 */
import type { Client } from "@elastic/elasticsearch";
import { dayOfLogIndex, LOG_INDEX_PATTERN } from "./log-document.ts";

const DAY_MS = 86_400_000;

/** The indices among `indices` that retention removes at `now`. */
export function expiredLogIndices(indices: readonly string[], olderThanMs: number, now: number): string[] {
  return indices.filter((index) => {
    const day = dayOfLogIndex(index);
    return day !== undefined && day + DAY_MS <= now - olderThanMs;
  });
}

/** Deletes the expired log indices; returns their names. */
export async function pruneLogIndices(client: Client, olderThanMs: number, now: number): Promise<string[]> {
  const rows = await client.cat.indices({ index: LOG_INDEX_PATTERN, h: "index", format: "json" });
  const expired = expiredLogIndices(
    rows.flatMap((row) => (row.index ? [row.index] : [])),
    olderThanMs,
    now,
  ).sort();
  if (expired.length > 0) await client.indices.delete({ index: expired.join(",") });
  return expired;
}
