/**
 * The idempotency ledger behind `ctx.once(key, fn)`: `fn` runs unless the ledger says it completed before.
 * PostgreSQL writes the completion in the same transaction as `fn`'s own queries (`scope.db`), so a side effect
 * kept in PostgreSQL happens exactly once. Redis keeps a lease while `fn` runs and a completion mark after, so an
 * external call (an email) is repeated only if the process dies between the call and the mark; a side effect kept
 * in Redis itself, queued on `scope.redis`, is written in one MULTI with the mark: exactly once too. Either way the
 * result is remembered, so a redelivered record gets the same answer and produces the same outputs.
 */
import type { ChainableCommander } from "ioredis";
import type pg from "pg";
import { SluiceError } from "../../topics/errors.ts";

export interface OnceScope {
  /** The consumer group whose side effect this is. */
  group: string;
  /** With the PostgreSQL ledger: the transaction the completion is written in. Absent with Redis. */
  db?: pg.ClientBase;
  /** With the Redis ledger: the MULTI the completion is written in (commands queued here run with it, atomically). */
  redis?: ChainableCommander;
}

/** The PostgreSQL transaction of a side effect that keeps its data there (its processor needs `ledger: "postgres"`). */
export function transactionOf(scope: OnceScope): pg.ClientBase {
  if (!scope.db) {
    throw new SluiceError(
      "LEDGER_MISSING",
      `group ${scope.group} keeps data in PostgreSQL: it needs ledger: "postgres"`,
    );
  }
  return scope.db;
}

/** The Redis MULTI of a side effect that keeps its data there (its processor needs `ledger: "redis"`). */
export function multiOf(scope: OnceScope): ChainableCommander {
  if (!scope.redis) {
    throw new SluiceError("LEDGER_MISSING", `group ${scope.group} keeps data in Redis: it needs ledger: "redis"`);
  }
  return scope.redis;
}

export interface OnceResult<R> {
  ran: boolean;
  /** What `fn` returned, the first time or remembered (as JSON) from then on. */
  result?: R | undefined;
}

export interface Ledger {
  once<R>(group: string, key: string, fn: (scope: OnceScope) => Promise<R>): Promise<OnceResult<R>>;
  close(): Promise<void>;
}
