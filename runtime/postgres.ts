/** PostgreSQL helpers for the runtime's users: services writing through the outbox, read models, tests. */
import type pg from "pg";

/** Something that runs queries: a pool, or a client in a transaction. */
export type Queryable = Pick<pg.ClientBase, "query">;

/** Runs `work` in a transaction of its own on `pool`; commits, or rolls back when `work` throws or `commit` is false. */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (tx: pg.PoolClient) => Promise<T>,
  commit = true,
): Promise<T> {
  const tx = await pool.connect();
  try {
    await tx.query("BEGIN");
    const result = await work(tx);
    await tx.query(commit ? "COMMIT" : "ROLLBACK");
    return result;
  } catch (error) {
    await tx.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    tx.release();
  }
}
