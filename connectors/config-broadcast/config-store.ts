/**
 * Writes broadcast configuration: PostgreSQL holds each key's current value and version (compare-and-set) and its
 * history; each new version goes to `config.updates` (keyed by config key) before the transaction commits, so a
 * version is in the table only if Kafka has it, then to Redis pub/sub, the subscribers' fast path. A version whose
 * commit fails after Kafka has it is never given again (one sequence): the next write wins on every node.
 */
import path from "node:path";
import { Redis } from "ioredis";
import type pg from "pg";
import {
  type CatalogProducer,
  CONFIG_CHANNEL,
  CONFIG_TOPIC,
  inTransaction,
  migrate,
  newPool,
} from "../../runtime/index.ts";
import type { TopicValues } from "../../schemas/types.generated.ts";
import { SluiceError } from "../../topics/errors.ts";

export const CONFIG_MIGRATIONS = path.join(import.meta.dirname, "migrations");

export interface ConfigEntry {
  key: string;
  value: string | null;
  version: bigint;
  updatedAt: Date;
}

export interface ConfigStoreDeps {
  databaseUrl: string;
  catalog: CatalogProducer<TopicValues>;
  /** The fast path; none: subscribers learn of changes through Kafka alone. */
  redisUrl?: string | undefined;
}

export class ConfigStore {
  private readonly pool: pg.Pool;
  private readonly catalog: CatalogProducer<TopicValues>;
  private readonly redis: Redis | undefined;

  private constructor(pool: pg.Pool, deps: ConfigStoreDeps) {
    this.pool = pool;
    this.catalog = deps.catalog;
    this.redis = deps.redisUrl
      ? new Redis(deps.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false })
      : undefined;
    this.redis?.on("error", () => {}); // the fast path is best effort: Kafka has every version
  }

  static async connect(deps: ConfigStoreDeps): Promise<ConfigStore> {
    const pool = newPool({ connectionString: deps.databaseUrl, max: 2 });
    await migrate(pool, [CONFIG_MIGRATIONS]);
    return new ConfigStore(pool, deps);
  }

  /**
   * Sets `key` to `value` as a new, higher version; with `expectVersion`, only if the key is at that version now
   * (0: not set yet), otherwise refused with a CONFIG_VERSION_CONFLICT naming the current one.
   */
  async set(key: string, value: string | null, expectVersion?: bigint): Promise<ConfigEntry> {
    const entry = await inTransaction(this.pool, async (client) => {
      // Writes of one key one at a time (a first write too, which has no row to lock): versions reach Kafka in order.
      await client.query("SELECT pg_advisory_xact_lock(hashtext('sluice.config.' || $1))", [key]);
      const current = await client.query<{ version: string }>("SELECT version FROM config_entries WHERE key = $1", [
        key,
      ]);
      const held = BigInt(current.rows[0]?.version ?? 0);
      if (expectVersion !== undefined && expectVersion !== held) {
        throw new SluiceError(
          "CONFIG_VERSION_CONFLICT",
          `${key} is at version ${held}, not ${expectVersion}: read it again (sluice config get ${key}) and retry`,
        );
      }
      const next = await client.query<EntryRow>(
        `INSERT INTO config_entries (key, value, version, updated_at) VALUES ($1, $2, nextval('config_version_seq'), now())
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
         RETURNING value, version, updated_at`,
        [key, value],
      );
      const written = entryOf(key, next.rows[0] as EntryRow);
      await client.query("INSERT INTO config_history (key, version, value, updated_at) VALUES ($1, $2, $3, $4)", [
        key,
        String(written.version),
        value,
        written.updatedAt,
      ]);
      await this.catalog.send(CONFIG_TOPIC, [
        { key, value, version: written.version, updatedAt: BigInt(written.updatedAt.getTime()) },
      ]);
      return written;
    });
    await this.wake(entry);
    return entry;
  }

  async get(key: string): Promise<ConfigEntry | undefined> {
    const { rows } = await this.pool.query<EntryRow>(
      "SELECT value, version, updated_at FROM config_entries WHERE key = $1",
      [key],
    );
    return rows[0] && entryOf(key, rows[0]);
  }

  /** Every version of `key`, newest first. */
  async history(key: string): Promise<ConfigEntry[]> {
    const { rows } = await this.pool.query<EntryRow>(
      "SELECT value, version, updated_at FROM config_history WHERE key = $1 ORDER BY version DESC",
      [key],
    );
    return rows.map((row) => entryOf(key, row));
  }

  /** Sets `key` back to the value it had at `version`, as a new, higher version. */
  async rollback(key: string, version: bigint): Promise<ConfigEntry> {
    const old = (await this.history(key)).find((entry) => entry.version === version);
    if (!old) throw new SluiceError("CONFIG_VERSION_UNKNOWN", `${key} never had version ${version}`);
    return this.set(key, old.value);
  }

  async close(): Promise<void> {
    this.redis?.disconnect();
    await this.pool.end();
  }

  /** Publishes the version on the fast path; Redis being down only makes nodes wait for Kafka. */
  private async wake(entry: ConfigEntry): Promise<void> {
    if (!this.redis) return;
    const message = JSON.stringify({ ...entry, version: String(entry.version), updatedAt: entry.updatedAt.getTime() });
    try {
      if (this.redis.status === "wait") await this.redis.connect();
      await this.redis.publish(CONFIG_CHANNEL, message);
    } catch {}
  }
}

interface EntryRow {
  value: string | null;
  version: string;
  updated_at: Date;
}

function entryOf(key: string, row: EntryRow): ConfigEntry {
  return { key, value: row.value, version: BigInt(row.version), updatedAt: row.updated_at };
}
