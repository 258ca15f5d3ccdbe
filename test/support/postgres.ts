/** Running a test's or the bench's work in a PostgreSQL transaction of its own. */
import type pg from "pg";

/** Runs `work` in a transaction; commits, or rolls back when `commit` is false or `work` throws. */
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
    await tx.query("ROLLBACK");
    throw error;
  } finally {
    tx.release();
  }
}
