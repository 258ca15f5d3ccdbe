/**
 * `sluice dlq list|show|replay`: the dead-letter queues of the processors and sinks this deployment runs
 * (ops/dlq/dlq.ts). `replay` is a dry run unless `--yes`.
 */
import { userInfo } from "node:os";
import { AvroSerde, librdkafka, migrate, newPool, routeOf, runtimeConfig, textVar } from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { UsageError } from "../../../topics/errors.ts";
import { deployment } from "../../deployment.ts";
import {
  DEFAULT_REPLAY_CAP,
  DLQ_MIGRATIONS,
  type DlqDeps,
  describeRecord,
  dlqFilter,
  readDlq,
  replayDlq,
  summarize,
} from "../../dlq/dlq.ts";
import { parse, positiveInteger } from "../args.ts";

const USAGE = `usage: sluice dlq list [--group G] [--topic T]
       sluice dlq show [FILTER] [--max N]
       sluice dlq replay [FILTER] [--yes] [--rate N] [--cap N]
  FILTER: --group G --topic T (the original topic) --class ERROR_CLASS --key K --from TIME --to TIME
  --module FILE adds a team's processors and sinks (as \`sluice run --module\` does)`;

export async function dlqCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("dlq", args, {
    group: { type: "string" },
    topic: { type: "string" },
    class: { type: "string" },
    key: { type: "string" },
    from: { type: "string" },
    to: { type: "string" },
    max: { type: "string" },
    yes: { type: "boolean" },
    rate: { type: "string" },
    cap: { type: "string" },
    module: { type: "string" },
  });
  const [action, extra] = positionals;
  if (!["list", "show", "replay"].includes(action ?? "") || extra !== undefined) throw new UsageError(USAGE);
  const filter = dlqFilter(values, (field) => `dlq: --${field}`);
  const deps = await dlqDeps("dlq", values.module);
  try {
    if (action === "list") {
      const rows = summarize(await readDlq(deps, filter));
      if (rows.length === 0) console.log("no records in the dead-letter queues");
      for (const r of rows) {
        const span = `${new Date(r.oldest).toISOString()} .. ${new Date(r.newest).toISOString()}`;
        console.log(
          `${r.group.padEnd(24)} ${r.topic.padEnd(24)} ${r.errorClass.padEnd(20)} ${String(r.count).padStart(6)}  ${span}`,
        );
      }
      return 0;
    }
    if (action === "show") {
      const max = positiveInteger("dlq", "--max", values.max) ?? 20;
      for (const entry of (await readDlq(deps, filter)).slice(0, max)) {
        console.log(JSON.stringify(await describeRecord(deps.serde, entry)));
      }
      return 0;
    }
    const dryRun = !values.yes;
    const counts = await replayDlq(deps, filter, {
      dryRun,
      rate: positiveInteger("dlq", "--rate", values.rate) ?? 100,
      cap: positiveInteger("dlq", "--cap", values.cap) ?? DEFAULT_REPLAY_CAP,
      operator: textVar(process.env, "SLUICE_OPERATOR") ?? userInfo().username,
    });
    const verb = dryRun ? "would replay" : "replayed";
    console.log(
      `${counts.matched} matched: ${verb} ${counts.replayed} into their group (its first retry tier, or its input ` +
        `for that group alone), ${dryRun ? "would park" : "parked"} ${counts.parked} (replayed ` +
        `${values.cap ?? DEFAULT_REPLAY_CAP} times already); left ${counts.invalid} that still do not fit their schema`,
    );
    if (dryRun) console.log("dry run: nothing moved (--yes moves them)");
    return 0;
  } finally {
    await deps.db.end();
  }
}

/** What the DLQ's operations need, for this deployment's processors and sinks (and --module's); the caller ends `db`. */
export async function dlqDeps(command: string, moduleFile: string | undefined): Promise<DlqDeps> {
  const { definitions, topics } = await deployment(command, moduleFile);
  const config = runtimeConfig();
  const db = newPool({ connectionString: config.databaseUrl, max: 2 });
  await migrate(db, [DLQ_MIGRATIONS]).catch(async (error: unknown) => {
    await db.end();
    throw error;
  });
  return {
    kafka: librdkafka({ brokers: config.kafkaBrokers, clientId: `sluice-${command}` }),
    serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
    db,
    routes: definitions.map(routeOf),
    topics,
    schemas: loadSchemaFiles(config.schemasDir),
  };
}
