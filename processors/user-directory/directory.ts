/**
 * The user directory: this side's copy of the user service's users (data sync across services). The table
 * `user_directory` is kept from users.status by the user-directory processor and can be rebuilt from the compacted
 * topic; an in-process cache answers repeated lookups. A change applies only if its version is higher than the
 * row's, so a late or redelivered older version never goes back; the cache holds what was read or applied for a
 * short while (another process's change shows here within that while), and never remembers a user as missing, so
 * a user who arrives is found at the next look.
 */
import type pg from "pg";
import { durationVar, HEADER, newPool, type Queryable, RetryableError, runtimeConfig } from "../../runtime/index.ts";
import type { UserStatus, UserStatusChanged } from "../../schemas/types.generated.ts";

export interface DirectoryUser {
  userId: string;
  status: UserStatus;
  email: string | null;
  version: number;
}

/**
 * The id a change is kept under, the same for the processor and a rebuild: its event id, or, for a record from a
 * producer that sets none, where it sits in users.status.
 */
export function changeEventId(
  headers: Readonly<Record<string, string>>,
  at: { topic: string; partition: number; offset: string },
): string {
  return headers[HEADER.eventId] ?? `${at.topic}/${at.partition}/${at.offset}`;
}

/** Writes the change to the table if it is newer than what the table has; returns the user if it did. */
export async function applyUserChange(
  db: Queryable,
  change: UserStatusChanged,
  eventId: string,
): Promise<DirectoryUser | undefined> {
  const { rowCount } = await db.query(
    `INSERT INTO user_directory (user_id, status, email, version, event_id, updated_at)
     VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0))
     ON CONFLICT (user_id) DO UPDATE
       SET status = EXCLUDED.status, email = EXCLUDED.email, version = EXCLUDED.version,
           event_id = EXCLUDED.event_id, updated_at = EXCLUDED.updated_at
       WHERE user_directory.version < EXCLUDED.version`,
    [change.userId, change.status, change.email, change.version, eventId, String(change.updatedAt)],
  );
  if (rowCount === 0) return undefined;
  return { userId: change.userId, status: change.status, email: change.email, version: Number(change.version) };
}

export class UserDirectory {
  private readonly cache = new Map<string, { user: DirectoryUser; until: number }>();
  private pool: pg.Pool | undefined;

  private readonly ttlMs: number;
  private readonly maxEntries: number;

  constructor(ttlMs: number, maxEntries = 10_000) {
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
  }

  /** The user, from the cache or the table; undefined while the directory does not have them. */
  async lookup(userId: string): Promise<DirectoryUser | undefined> {
    const cached = this.cache.get(userId);
    if (cached && cached.until > Date.now()) return cached.user;
    this.pool ??= newPool({ connectionString: runtimeConfig().databaseUrl, max: 2, allowExitOnIdle: true });
    const { rows } = await this.pool.query<{ status: UserStatus; email: string | null; version: string }>(
      "SELECT status, email, version FROM user_directory WHERE user_id = $1",
      [userId],
    );
    const row = rows[0];
    if (!row) return undefined;
    const user = { userId, status: row.status, email: row.email, version: Number(row.version) };
    this.remember(user);
    return user;
  }

  /** Caches a user just read or applied, unless the cache holds a newer version. */
  remember(user: DirectoryUser): void {
    const cached = this.cache.get(user.userId);
    if (cached && cached.user.version > user.version) return;
    this.cache.delete(user.userId);
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value as string); // the oldest
    this.cache.set(user.userId, { user, until: Date.now() + this.ttlMs });
  }
}

let directory: UserDirectory | undefined;

/** This process's directory; USER_DIRECTORY_CACHE_TTL (default 30s) bounds how stale a cached user may be. */
export function userDirectory(): UserDirectory {
  directory ??= new UserDirectory(durationVar(process.env, "USER_DIRECTORY_CACHE_TTL", "30s"));
  return directory;
}

/**
 * Where to email `userId` about `subject` ("order o-1"): the directory's address, or none for a deleted user or one
 * without an address. A user the directory does not have yet is a retryable failure: the user service's change may
 * still be on its way, so the record waits in its retry tiers instead of going to the DLQ.
 */
export async function emailAddressOf(userId: string, subject: string): Promise<string | undefined> {
  const user = await userDirectory().lookup(userId);
  if (!user) throw new RetryableError(`user ${userId} of ${subject} is not in the user directory yet`);
  return user.status === "DELETED" || !user.email ? undefined : user.email;
}
