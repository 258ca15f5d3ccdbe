import type pg from "pg";
import { brokenBy, newPool } from "../postgres.ts";
import type { Ledger, OnceResult, OnceScope } from "./ledger.ts";
import { migrate } from "./migrate.ts";

export class PostgresLedger implements Ledger {
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  /** Connects and applies the ledger's migrations and those in `migrations` (a team's own tables). */
  static async connect(databaseUrl: string, migrations: readonly string[] = []): Promise<PostgresLedger> {
    const pool = newPool({ connectionString: databaseUrl, max: 8 });
    await migrate(pool, migrations);
    return new PostgresLedger(pool);
  }

  get db(): pg.Pool {
    return this.pool;
  }

  async once<R>(group: string, key: string, fn: (scope: OnceScope) => Promise<R>): Promise<OnceResult<R>> {
    const client = await this.pool.connect();
    let failed: Error | undefined;
    try {
      await client.query("BEGIN");
      // A concurrent duplicate blocks on this row until the first commits, then finds it and skips.
      const claimed = await client.query(
        "INSERT INTO sluice_ledger (group_name, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [group, key],
      );
      if (claimed.rowCount === 0) {
        await client.query("ROLLBACK");
        // On this client: asking the pool for another could wait forever once every client sits here.
        const done = await client.query<{ result: R | null }>(
          "SELECT result FROM sluice_ledger WHERE group_name = $1 AND key = $2",
          [group, key],
        );
        return { ran: false, result: done.rows[0]?.result ?? undefined };
      }
      const result = await fn({ group, db: client });
      await client.query("UPDATE sluice_ledger SET result = $3 WHERE group_name = $1 AND key = $2", [
        group,
        key,
        JSON.stringify(result ?? null),
      ]);
      await client.query("COMMIT");
      return { ran: true, result };
    } catch (error) {
      failed = await brokenBy(client, error);
      throw error;
    } finally {
      client.release(failed);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
