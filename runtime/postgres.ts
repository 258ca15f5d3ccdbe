/** PostgreSQL helpers for the runtime's users: services writing through the outbox, read models, tests. */
import pg from "pg";
import { isOutage } from "./failure.ts";

/** Something that runs queries: a pool, or a client in a transaction. */
export type Queryable = Pick<pg.ClientBase, "query">;

/**
 * A pool that survives its server's restart. The server closing a connection (a restart, a failover) is an 'error'
 * event on the pool (an idle client) or on the client (one checked out), which would crash the process without a
 * listener; the pool drops that client and opens another when next asked. The queries that fail say so themselves.
 */
export function newPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on("error", () => {});
  // A client checked out when the server goes (between two queries of a transaction) emits 'error' on itself: its
  // next query fails and says so, and the process must not crash meanwhile.
  pool.on("connect", (client) => client.on("error", () => {}));
  return pool;
}

/**
 * Rolls back after `error`; returns the error when the client must be closed rather than handed out again (its
 * connection is gone, or the rollback failed), undefined when it is fine (a constraint violation, say).
 */
export async function brokenBy(client: pg.ClientBase, error: unknown): Promise<Error | undefined> {
  const rolledBack = await client.query("ROLLBACK").then(
    () => true,
    () => false,
  );
  return rolledBack && !isOutage(error) ? undefined : (error as Error);
}

/** Runs `work` in a transaction of its own on `pool`; commits, or rolls back when `work` throws or `commit` is false. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (tx: pg.PoolClient) => Promise<T>,
  commit = true,
): Promise<T> {
  const tx = await pool.connect();
  let failed: Error | undefined;
  try {
    await tx.query("BEGIN");
    const result = await work(tx);
    await tx.query(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    failed = await brokenBy(tx, error);
    throw error;
  } finally {
    tx.release(failed);
  }
}
