#!/usr/bin/env node
/**
 * The `sluice` CLI. A user's mistake gets one line on stderr and exit 2; a failure gets one line and exit 1.
 * Stack traces are for SLUICE_DEBUG=1 only.
 */
import { inspect } from "node:util";
import { redactText } from "../../runtime/index.ts";
import { ConfigError, SluiceError, UsageError } from "../../topics/errors.ts";
import { archiveCommand } from "./commands/archive.ts";
import { configCommand } from "./commands/config.ts";
import { dashboardCommand } from "./commands/dashboard.ts";
import { dlqCommand } from "./commands/dlq.ts";
import { flashsaleCommand } from "./commands/flashsale.ts";
import { kibanaCommand } from "./commands/kibana.ts";
import { lagCommand } from "./commands/lag.ts";
import { logsCommand } from "./commands/logs.ts";
import { outboxCommand } from "./commands/outbox.ts";
import { runCommand } from "./commands/run.ts";
import { schemasCommand } from "./commands/schemas.ts";
import { serveCommand } from "./commands/serve.ts";
import { stackCommand } from "./commands/stack.ts";
import { tailCommand } from "./commands/tail.ts";
import { topicsCommand } from "./commands/topics.ts";
import { usersCommand } from "./commands/users.ts";

type Command = (args: string[]) => Promise<number>;

const COMMANDS: Record<string, Command> = {
  stack: stackCommand,
  topics: topicsCommand,
  schemas: schemasCommand,
  tail: tailCommand,
  run: runCommand,
  logs: logsCommand,
  kibana: kibanaCommand,
  archive: archiveCommand,
  config: configCommand,
  outbox: outboxCommand,
  serve: serveCommand,
  users: usersCommand,
  flashsale: flashsaleCommand,
  dlq: dlqCommand,
  lag: lagCommand,
  dashboard: dashboardCommand,
};

const USAGE = `usage: sluice <command>
  stack up | down | status [--with s3]  the local stack: Kafka, schema registry, Elasticsearch, PostgreSQL, Redis
                                        (and S3Proxy, an S3-compatible store for the archive)
  topics apply [--dry-run] | list       reconcile the topic catalog with the cluster
  schemas register | check | codegen [--check]
                                        register schemas after a compatibility check; gate CI on compatibility
  tail <topic> [--from-beginning] [--max N]
                                        print decoded records as JSON lines
  run <processor|sink...> | --all [--port N]
                                        run processors and sinks (and the delay router) until SIGTERM; /metrics, /health
  logs ship --service NAME [FILE...] [--checkpoint FILE]
                                        ship log lines to logs.app: follow files (rotation aware, checkpointed) or stdin
  logs prune --older-than 7d            delete the daily log indices past the retention
  kibana import                         import the logs data view, saved search and dashboard into KIBANA_URL
  config set KEY VALUE [--expect-version N] | get KEY | history KEY | rollback KEY --to-version N
                                        broadcast configuration: compare-and-set in PostgreSQL, to every node via config.updates
  outbox relay                          publish the transactional outbox's committed events to Kafka until SIGTERM
  serve orders|users|flashsale|videos [--port N]
                                        a reference service over HTTP (orders :9410, users :9420, flash-sale gateway
                                        :9430, videos :9440)
  flashsale create|status|reconcile <saleId>
                                        a flash sale: set it up, its figures, Redis made to agree with the database
  dlq list | show | replay [--group G] [--topic T] [--class C] [--key K] [--from T] [--to T] [--yes] [--rate N]
                                        the dead-letter queues: counts, decoded records, replay (a dry run unless --yes)
  lag [--group G] [--watch | --serve PORT]
                                        each group's lag in records and seconds, its retry tiers' and DLQ's, from the broker
  dashboard [--port N] [--every 5s]     a web page: processors, throughput and lag over time, retry tiers, DLQ browser
                                        and replay; its lag monitor feeds the consumer-lag and dlq-growth alerts
  users rebuild                         rebuild the user directory (users.status's read model) from the compacted topic
  archive replay <topic> --from DATE --to DATE --into TOPIC
                                        re-produce archived records (days UTC, inclusive, or ISO times) into a topic`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command '${name}' (commands: ${Object.keys(COMMANDS).join(", ")})`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    const usage =
      error instanceof UsageError ||
      error instanceof ConfigError ||
      (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"));
    const message = redactText(error instanceof Error ? error.message : String(error));
    const tag = error instanceof SluiceError ? ` [${error.code}]` : "";
    console.error(`sluice: ${usage ? message : `${message}${tag}`}`);
    if (process.env.SLUICE_DEBUG === "1") console.error(redactText(inspect(error)));
    // Exit at once: a failed `run` may have left servers and pools open.
    process.exit(usage ? 2 : 1);
  },
);
