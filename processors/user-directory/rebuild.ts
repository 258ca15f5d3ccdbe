/**
 * Rebuilds the user directory from users.status alone: every partition read from its beginning to its end (the
 * topic is compacted, so it holds at least each user's latest change) and each change applied as the processor
 * applies it, highest version winning, in one transaction that replaces the table's rows. The result is the table
 * the processor keeps; `sluice users rebuild` runs it.
 *
 * A record that cannot be decoded (another team's serializer, raw bytes) is skipped and counted by its code, as the
 * processor sends it to its DLQ: one bad record never stops a rebuild.
 */
import type pg from "pg";
import {
  type AvroSerde,
  type ConsumedRecord,
  DecodeError,
  inTransaction,
  type KafkaPort,
  textHeaders,
  wholeTopic,
} from "../../runtime/index.ts";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import type { UserStatusChanged } from "../../schemas/types.generated.ts";
import { applyUserChange, changeEventId } from "./directory.ts";

export const USERS_TOPIC = "users.status";

export async function rebuildUserDirectory(deps: {
  kafka: KafkaPort;
  serde: AvroSerde;
  db: pg.Pool;
  schemas: ReadonlyMap<string, SchemaFile>;
}): Promise<{ records: number; users: number; skipped: Map<string, number> }> {
  // Read as the processor reads them: a change written before `version` existed gets its default.
  const reader = deps.schemas.get("sluice.users.UserStatusChanged")?.type;
  const records: ConsumedRecord[] = [];
  await deps.kafka.readToEnd(await wholeTopic(deps.kafka, USERS_TOPIC), (record) => records.push(record));
  return inTransaction(deps.db, async (tx) => {
    await tx.query("LOCK TABLE user_directory IN EXCLUSIVE MODE"); // the processor's writes wait for the new rows
    await tx.query("DELETE FROM user_directory");
    const skipped = new Map<string, number>();
    for (const record of records) {
      if (!record.value) continue; // a tombstone: the user service never writes one
      const decoded = await deps.serde.decode<UserStatusChanged>(record.value, reader).catch((error: unknown) => {
        if (!(error instanceof DecodeError)) throw error; // the registry out of reach: no rebuild from half a topic
        skipped.set(error.code, (skipped.get(error.code) ?? 0) + 1);
      });
      if (!decoded) continue;
      await applyUserChange(tx, decoded.value, changeEventId(textHeaders(record.headers), record));
    }
    const { rows } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM user_directory");
    return { records: records.length, users: rows[0]?.n ?? 0, skipped };
  });
}
