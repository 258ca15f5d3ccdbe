/**
 * Applies SQL migrations once each, in file-name order across the given folders: the runtime's own (the ledger's
 * table) and those a team's processors bring for their tables. Applied names are kept in `sluice_migrations`.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import type pg from "pg";

const LEDGER_MIGRATIONS = path.join(import.meta.dirname, "migrations");

export async function migrate(pool: pg.Pool, folders: readonly string[]): Promise<string[]> {
  const client = await pool.connect();
  try {
    // One migrator at a time, across processes: processors start together.
    await client.query("SELECT pg_advisory_lock(hashtext('sluice_migrations'))");
    await client.query(
      "CREATE TABLE IF NOT EXISTS sluice_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
    );
    const { rows } = await client.query<{ name: string }>("SELECT name FROM sluice_migrations");
    const applied = new Set(rows.map((r) => r.name));
    const pending = [...new Set([LEDGER_MIGRATIONS, ...folders])]
      .flatMap((folder) => readdirSync(folder).map((name) => ({ name, file: path.join(folder, name) })))
      .filter(({ name }) => name.endsWith(".sql") && !applied.has(name))
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const { name, file } of pending) {
      await client.query("BEGIN");
      try {
        await client.query(readFileSync(file, "utf8"));
        await client.query("INSERT INTO sluice_migrations (name) VALUES ($1)", [name]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw error;
      }
    }
    return pending.map((p) => p.name);
  } finally {
    await client.query("SELECT pg_advisory_unlock(hashtext('sluice_migrations'))").catch(() => {});
    client.release();
  }
}
