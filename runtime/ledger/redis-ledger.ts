import { Redis } from "ioredis";
import { RetryableError } from "../failure.ts";
import type { Ledger, OnceResult, OnceScope } from "./ledger.ts";

const DONE = "done:";

export interface RedisLedgerOptions {
  /** How long a completion is remembered: longer than any redelivery can take. */
  doneTtlMs?: number;
  /** How long a running `fn` holds its key; a crashed holder's lease runs out and the key can run again. */
  leaseMs?: number;
}

export class RedisLedger implements Ledger {
  private readonly redis: Redis;
  private readonly doneTtlMs: number;
  private readonly leaseMs: number;

  constructor(redisUrl: string, options: RedisLedgerOptions = {}) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    this.doneTtlMs = options.doneTtlMs ?? 7 * 24 * 3_600_000;
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  async once<R>(group: string, key: string, fn: (scope: OnceScope) => Promise<R>): Promise<OnceResult<R>> {
    const slot = `sluice:ledger:${group}:${key}`;
    const leased = await this.redis.set(slot, "running", "PX", this.leaseMs, "NX");
    if (leased === null) {
      const value = await this.redis.get(slot);
      if (value?.startsWith(DONE)) return { ran: false, result: JSON.parse(value.slice(DONE.length)) as R };
      throw new RetryableError(
        `side effect ${key} is running elsewhere (or its holder died): retry after the lease`,
        "SIDE_EFFECT_RUNNING",
      );
    }
    try {
      const result = await fn({ group });
      await this.redis.set(slot, `${DONE}${JSON.stringify(result ?? null)}`, "PX", this.doneTtlMs);
      return { ran: true, result };
    } catch (error) {
      await this.redis.del(slot);
      throw error;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
