/**
 * Rebuilds the user directory from users.status alone: every partition read from its beginning to its end (the
 * topic is compacted, so it holds at least each user's latest change) and each change applied as the processor
 * applies it, highest version winning, in one transaction that replaces the table's rows. The result is the table
 * the processor keeps; `sluice users rebuild` runs it.
 */
import type pg from "pg";
import {
  type AvroSerde,
  type ConsumedRecord,
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
}): Promise<{ records: number; users: number }> {
  // Read as the processor reads them: a change written before `version` existed gets its default.
  const reader = deps.schemas.get("sluice.users.UserStatusChanged")?.type;
  const records: ConsumedRecord[] = [];
  await deps.kafka.readToEnd(await wholeTopic(deps.kafka, USERS_TOPIC), (record) => records.push(record));
  return inTransaction(deps.db, async (tx) => {
    await tx.query("LOCK TABLE user_directory IN EXCLUSIVE MODE"); // the processor's writes wait for the new rows
    await tx.query("DELETE FROM user_directory");
    for (const record of records) {
      if (!record.value) continue; // a tombstone: the user service never writes one
      const { value } = await deps.serde.decode<UserStatusChanged>(record.value, reader);
      const eventId = changeEventId(textHeaders(record.headers), record);
      await applyUserChange(tx, value, eventId);
    }
    const { rows } = await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM user_directory");
    return { records: records.length, users: rows[0]?.n ?? 0 };
  });
}
