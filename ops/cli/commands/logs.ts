/**
 * `sluice logs ship --service NAME [FILE...] [--checkpoint FILE]`: ships log lines to logs.app, following files
 * (rotation aware, resuming from a checkpoint) or reading stdin until it ends.
 * `sluice logs prune --older-than 7d`: deletes the daily log indices past the retention.
 */
import path from "node:path";
import { createInterface } from "node:readline";
import { elasticsearchClient } from "../../../connectors/elasticsearch/log-sink.ts";
import { pruneLogIndices } from "../../../connectors/elasticsearch/retention.ts";
import { Checkpoint } from "../../../connectors/log-shipper/checkpoint.ts";
import { FileShipper } from "../../../connectors/log-shipper/file-shipper.ts";
import { LogShipper } from "../../../connectors/log-shipper/log-shipper.ts";
import { UsageError } from "../../../topics/errors.ts";
import { duration, parse } from "../args.ts";

const USAGE = "usage: sluice logs ship --service NAME [FILE...] [--checkpoint FILE] | prune --older-than 7d";

export async function logsCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "ship") return ship(rest);
  if (sub === "prune") return prune(rest);
  throw new UsageError(sub ? `logs: unknown subcommand '${sub}' (${USAGE})` : `logs: ${USAGE}`);
}

async function ship(args: string[]): Promise<number> {
  const { values, positionals } = parse("logs ship", args, {
    service: { type: "string" },
    checkpoint: { type: "string" },
  });
  const service = values.service?.trim();
  if (!service) throw new UsageError(`logs ship: --service NAME is required (${USAGE})`);
  if (positionals.length === 0) return shipStdin(service);
  const checkpoint = new Checkpoint(
    path.resolve(values.checkpoint ?? path.join(".sluice", "logs-ship", `${service}.checkpoint.json`)),
  );
  const shipper = new FileShipper({ service, files: positionals.map((f) => path.resolve(f)), checkpoint });
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => shipper.stop());
  await shipper.run();
  console.error(`logs ship: ${shipper.shipped} lines shipped; checkpoint ${values.checkpoint ?? "saved"}`);
  return 0;
}

/** Lines from stdin until it ends: the feeding process is never held up (full queue: lines dropped, counted). */
async function shipStdin(service: string): Promise<number> {
  const shipper = new LogShipper({ service });
  for await (const line of createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
    shipper.write(line);
  }
  const { shipped, dropped } = await shipper.close(30_000);
  console.error(`logs ship: ${shipped} lines shipped, ${dropped} dropped`);
  return dropped > 0 ? 1 : 0;
}

async function prune(args: string[]): Promise<number> {
  const { values, positionals } = parse("logs prune", args, { "older-than": { type: "string" } });
  if (positionals.length > 0) throw new UsageError(`logs prune: unexpected argument '${positionals[0]}'`);
  const olderThanMs = duration("logs prune", "--older-than", values["older-than"]);
  if (olderThanMs === undefined) throw new UsageError("logs prune: --older-than is required, e.g. --older-than 7d");
  const client = elasticsearchClient();
  try {
    const deleted = await pruneLogIndices(client, olderThanMs, Date.now());
    console.log(deleted.length > 0 ? `deleted ${deleted.join(", ")}` : "no log index is past the retention");
  } finally {
    await client.close();
  }
  return 0;
}
