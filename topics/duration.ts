/** Durations as the catalog writes them: `500ms`, `5s`, `1m`, `10m`, `1h`, `7d`. */
import { UsageError } from "../processors/runtime/errors.ts";

export type Duration = `${number}${"ms" | "s" | "m" | "h" | "d"}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function toMs(duration: string): number {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new UsageError(`'${duration}' is not a duration (examples: 500ms, 5s, 1m, 10m, 1h, 7d)`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
