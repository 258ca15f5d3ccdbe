/** Applies processors/migrations/*.sql (the ledger, and the processors' own tables) once each, in name order. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";

const DIR = path.join(import.meta.dirname, "../../migrations");

export async function migrate(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    // One migrator at a time, across processes: processors start together.
    await client.query("SELECT pg_advisory_lock(hashtext('sluice_migrations'))");
    await client.query(
      "CREATE TABLE IF NOT EXISTS sluice_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await client.query<{ name: string }>("SELECT name FROM sluice_migrations");
    const applied = new Set(rows.map((r) => r.name));
    const pending = readdirSync(DIR)
      .filter((f) => f.endsWith(".sql") && !applied.has(f))
      .sort();
    for (const name of pending) {
      await client.query("BEGIN");
      try {
        await client.query(readFileSync(path.join(DIR, name), "utf8"));
        await client.query("INSERT INTO sluice_migrations (name) VALUES ($1)", [name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
    return pending;
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('sluice_migrations'))").catch(() => {});
    client.release();
  }
}
