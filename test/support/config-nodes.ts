/** Config subscriber processes (config-subscriber-process.ts) for the broadcast tests and bench, and what they wrote. */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { eventually } from "./runtime.ts";

export interface ConfigNode {
  out: string;
  process: ChildProcess;
}

/** Starts a subscriber process writing to `out` and waits until it has loaded the topic. */
export async function startConfigNode(out: string, env: NodeJS.ProcessEnv = {}): Promise<ConfigNode> {
  const before = configLines(out).length;
  const child = spawn(process.execPath, ["test/support/config-subscriber-process.ts"], {
    env: { ...process.env, TEST_CONFIG_OUT: out, ...env },
    stdio: "ignore",
  });
  if (
    !(await eventually(
      () =>
        configLines(out)
          .slice(before)
          .some((l) => l.loaded),
      30_000,
    ))
  ) {
    child.kill("SIGKILL");
    throw new Error(`the config subscriber writing ${out} did not load within 30s`);
  }
  return { out, process: child };
}

export function configLines(out: string): Record<string, unknown>[] {
  if (!existsSync(out)) return [];
  return readFileSync(out, "utf8")
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The version a node holds for `key`: from what it loaded last and what it applied since. */
export function heldVersion(out: string, key: string): string | undefined {
  let held: string | undefined;
  for (const l of configLines(out)) {
    if (l.loaded) held = (l.loaded as Record<string, string>)[key];
    else if (l.key === key) held = l.version as string;
  }
  return held;
}
