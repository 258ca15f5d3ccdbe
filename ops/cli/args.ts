/** Argument parsing shared by the CLI's commands: node's parseArgs, with errors a user can act on. */
import { type ParseArgsOptionsConfig, parseArgs } from "node:util";
import { parseDuration } from "../../topics/duration.ts";
import { UsageError } from "../../topics/errors.ts";

export function parse<T extends ParseArgsOptionsConfig>(command: string, args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${(error as Error).message.split("\n")[0]}`);
  }
}

export function expectNoArgs(command: string, args: string[]): void {
  if (args.length > 0) throw new UsageError(`${command}: unexpected argument '${args[0]}'`);
}

export function duration(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${command}: ${flag} needs a duration such as 30s or 5m, got '${value}'`);
  return ms;
}

export function positiveInteger(command: string, flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(value))
    throw new UsageError(`${command}: ${flag} needs a positive whole number, got '${value}'`);
  return Number(value);
}

/** Resolves with the first SIGTERM or SIGINT from now on: a long-running command's cue to drain and exit. */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
}
