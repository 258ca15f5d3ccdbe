/** `sluice run <processor...>`: runs processors in this process until SIGTERM or SIGINT. */
import { PROCESSORS } from "../../../processors/registry.ts";
import { UsageError } from "../../../processors/runtime/errors.ts";
import { ProcessorHost } from "../../../processors/runtime/host.ts";
import { parse, positiveInteger } from "../args.ts";

const DRAIN_MS = 30_000;

export async function runCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("run", args, { port: { type: "string" }, all: { type: "boolean" } });
  const names = values.all ? PROCESSORS.map((p) => p.name) : positionals;
  if (names.length === 0) {
    throw new UsageError(`run: which processors? (${PROCESSORS.map((p) => p.name).join(", ")}, or --all)`);
  }
  const definitions = names.map((name) => {
    const definition = PROCESSORS.find((p) => p.name === name);
    if (!definition)
      throw new UsageError(`run: unknown processor '${name}' (${PROCESSORS.map((p) => p.name).join(", ")})`);
    return definition;
  });
  const port = positiveInteger("run", "--port", values.port ?? process.env.SLUICE_HTTP_PORT) ?? 9400;
  const host = new ProcessorHost();
  await host.start(definitions, { port });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  host.log.info({ signal }, "draining");
  const drained = await Promise.race([
    host.stop().then(() => true),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), DRAIN_MS).unref()),
  ]);
  if (!drained)
    host.log.error(`did not drain within ${DRAIN_MS / 1000}s; exiting anyway (uncommitted work is redelivered)`);
  return drained ? 0 : 1;
}
