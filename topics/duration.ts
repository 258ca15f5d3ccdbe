/** Durations as the catalog and definitions write them: `500ms`, `5s`, `1m`, `10m`, `1h`, `7d`. */
import { ConfigError } from "./errors.ts";

export type Duration = `${number}${"ms" | "s" | "m" | "h" | "d"}`;

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Milliseconds, or undefined when `text` is not a duration. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

export function toMs(duration: Duration): number {
  const ms = parseDuration(duration);
  if (ms === undefined) throw new ConfigError(`'${duration}' is not a duration (examples: 500ms, 5s, 1m, 10m, 1h, 7d)`);
  return ms;
}
