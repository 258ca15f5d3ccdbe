import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { RetryableError } from "../failure.ts";
import type { Ledger, OnceResult, OnceScope } from "./ledger.ts";

const DONE = "done:";
/** Deletes the lease if it is still the one given. */
const RELEASE = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`;
/** Renews the lease if it is still the one given. */
const TAKE_BACK = `if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("PEXPIRE", KEYS[1], ARGV[2]) end return 0`;

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
  /** Leases this ledger could not release (Redis was out of reach), by slot: their token, to take them back. */
  private readonly orphaned = new Map<string, string>();

  constructor(redisUrl: string, options: RedisLedgerOptions = {}) {
    this.redis = new Redis(redisUrl, { maxRetriesPerRequest: 3 });
    this.doneTtlMs = options.doneTtlMs ?? 7 * 24 * 3_600_000;
    this.leaseMs = options.leaseMs ?? 60_000;
  }

  async once<R>(group: string, key: string, fn: (scope: OnceScope) => Promise<R>): Promise<OnceResult<R>> {
    const slot = `sluice:ledger:${group}:${key}`;
    let token = `running:${randomUUID()}`;
    const leased = await this.redis.set(slot, token, "PX", this.leaseMs, "NX");
    if (leased === null) {
      const value = await this.redis.get(slot);
      if (value?.startsWith(DONE)) return { ran: false, result: JSON.parse(value.slice(DONE.length)) as R };
      // Our own lease, left when Redis went away before its MULTI ran (so nothing of it happened): taken back, for
      // a lease's time again, if it is still that one.
      const orphan = this.orphaned.get(slot);
      const taken = orphan !== undefined && (await this.redis.eval(TAKE_BACK, 1, slot, orphan, this.leaseMs)) === 1;
      if (!taken) {
        throw new RetryableError(
          `side effect ${key} is running elsewhere (or its holder died): retry after the lease`,
          "SIDE_EFFECT_RUNNING",
        );
      }
      token = orphan;
    }
    this.orphaned.delete(slot);
    try {
      const multi = this.redis.multi();
      const result = await fn({ group, redis: multi });
      multi.set(slot, `${DONE}${JSON.stringify(result ?? null)}`, "PX", this.doneTtlMs);
      const replies = (await multi.exec()) ?? [];
      const failed = replies.find(([error]) => error)?.[0];
      if (failed) throw failed;
      return { ran: true, result };
    } catch (error) {
      // Only this call's lease: if the MULTI ran after all (its reply lost), the completion stays.
      await this.redis.eval(RELEASE, 1, slot, token).catch(() => this.orphaned.set(slot, token));
      throw error;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
