/**
 * `sluice run <processor or sink...>`: runs processors and sinks (connectors) in this process until SIGTERM or
 * SIGINT. `--module <file>` adds a team's own: a module exporting `processors` (processor and sink definitions)
 * and optionally `topics` (catalog entries for topics it declares itself).
 */
import { LogShipper } from "../../../connectors/log-shipper/log-shipper.ts";
import { CONNECTOR_MIGRATIONS } from "../../../connectors/registry.ts";
import { connectorSettings } from "../../../connectors/settings.ts";
import { MIGRATIONS } from "../../../processors/registry.ts";
import { domainSettings } from "../../../processors/settings.ts";
import { isSink, ProcessorHost, runtimeConfig } from "../../../runtime/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { UsageError } from "../../../topics/errors.ts";
import { deployment } from "../../deployment.ts";
import { parse, positiveInteger, stopSignal } from "../args.ts";

const DRAIN_MS = 30_000;

/**
 * Old-generation heap of a `sluice run` process, MB, unless SLUICE_HEAP_MB says: a base, room for each consumer
 * (every processor's, and the delay router's) to hold its next few thousand records, and more for each sink.
 */
const HEAP_BASE_MB = 64;
const HEAP_PER_CONSUMER_MB = 32;
/** A sink holds about two batches of decoded records and their request bodies: a few MB, allocated quickly. */
const HEAP_PER_SINK_MB = 96;

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("run", args, {
    port: { type: "string" },
    all: { type: "boolean" },
    module: { type: "string" },
  });
  const { definitions: known, topics } = await deployment("run", values.module);
  const list = known.map((p) => p.name).join(", ");
  const names = values.all ? known.map((p) => p.name) : positionals;
  if (names.length === 0) throw new UsageError(`run: which processors or sinks? (${list}, or --all)`);
  const definitions = names.map((name) => {
    const definition = known.find((p) => p.name === name);
    if (!definition) throw new UsageError(`run: unknown processor or sink '${name}' (${list})`);
    return definition;
  });
  const config = runtimeConfig();
  domainSettings();
  const { shipLogsAs } = connectorSettings();
  const sinks = definitions.filter(isSink).length;
  boundHeap(
    config.heapMb ?? HEAP_BASE_MB + HEAP_PER_CONSUMER_MB * (definitions.length - sinks + 1) + HEAP_PER_SINK_MB * sinks,
  );
  const port = positiveInteger("run", "--port", values.port) ?? config.httpPort;
  const host = new ProcessorHost();
  // Sluice's own logs, searchable with every other service's when asked for.
  const shipper = shipLogsAs ? new LogShipper({ service: shipLogsAs }) : undefined;
  await host.start(definitions, {
    config,
    port,
    topics,
    schemas: loadSchemaFiles(config.schemasDir),
    migrations: [MIGRATIONS, ...CONNECTOR_MIGRATIONS],
    ...(shipper ? { logTo: shipper } : {}),
  });
  const signal = await stopSignal();
  host.log.info({ signal }, "draining");
  const drained = await Promise.race([
    host.stop().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DRAIN_MS).unref()),
  ]);
  if (!drained)
    host.log.error(`did not drain within ${DRAIN_MS / 1000}s; exiting anyway (uncommitted work is redelivered)`);
  await shipper?.close();
  // Drained means committed: the process ends now, not when the pools and clients that handlers opened for
  // themselves (a mail server's pool, a media store's client) have idled out, which can take a minute.
  process.exit(drained ? 0 : 1);
}

/**
 * V8 sizes its heap for the machine, and a busy processor lets garbage pile up to hundreds of MB before it
 * collects. Unless NODE_OPTIONS or the command line already sets heap sizes, this process becomes itself again
 * with a bounded heap: execve keeps its pid, so signals, supervisors and metrics see the same process. Two malloc
 * arenas (unless MALLOC_ARENA_MAX says otherwise) keep librdkafka's threads from each holding on to their own.
 */
function boundHeap(heapMb: number): void {
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].join(" ");
  if (/--max-(old|semi)-space-size/.test(chosen) || typeof process.execve !== "function") return;
  process.execve(
    process.execPath,
    [
      process.execPath,
      `--max-old-space-size=${heapMb}`,
      "--max-semi-space-size=8",
      ...process.execArgv,
      ...process.argv.slice(1),
    ],
    { MALLOC_ARENA_MAX: "2", ...process.env },
  );
}
