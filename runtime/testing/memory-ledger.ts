/**
 * The idempotency ledger in memory, for driver tests of handlers whose side effects are not kept in PostgreSQL
 * (those take a PostgresLedger, as in production). As PostgreSQL's, it remembers a result as JSON, and forgets a
 * side effect that threw.
 */
import type { Ledger, OnceResult, OnceScope } from "../ledger/ledger.ts";

export class MemoryLedger implements Ledger {
  /** Results as JSON, by group and key. */
  private readonly done = new Map<string, string>();

  async once<R>(group: string, key: string, fn: (scope: OnceScope) => Promise<R>): Promise<OnceResult<R>> {
    const slot = JSON.stringify([group, key]);
    const remembered = this.done.get(slot);
    if (remembered !== undefined) return { ran: false, result: (JSON.parse(remembered) as R | null) ?? undefined };
    const result = await fn({ group });
    this.done.set(slot, JSON.stringify(result ?? null));
    return { ran: true, result };
  }

  async close(): Promise<void> {}
}
