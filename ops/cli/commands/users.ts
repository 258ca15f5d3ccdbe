/** `sluice users rebuild`: rebuilds the user directory (the read model of users.status) from the compacted topic. */
import { MIGRATIONS } from "../../../processors/registry.ts";
import { rebuildUserDirectory } from "../../../processors/user-directory/rebuild.ts";
import { AvroSerde, librdkafka, migrate, newPool, runtimeConfig } from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { UsageError } from "../../../topics/errors.ts";

export async function usersCommand(args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] !== "rebuild") throw new UsageError("usage: sluice users rebuild");
  const config = runtimeConfig();
  const db = newPool({ connectionString: config.databaseUrl, max: 2 });
  try {
    await migrate(db, [MIGRATIONS]);
    const { records, users, skipped } = await rebuildUserDirectory({
      kafka: librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-users-rebuild" }),
      serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
      db,
      schemas: loadSchemaFiles(config.schemasDir),
    });
    console.log(`user directory rebuilt from users.status: ${records} records, ${users} users`);
    if (skipped.size > 0) {
      const counts = [...skipped].map(([code, n]) => `${code}: ${n}`).join(", ");
      console.log(
        `skipped ${[...skipped.values()].reduce((a, b) => a + b)} records that could not be decoded (${counts})`,
      );
    }
    return 0;
  } finally {
    await db.end();
  }
}
