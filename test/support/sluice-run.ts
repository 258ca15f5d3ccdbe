/** `sluice run` as a child process, as it runs in production: started, signalled, killed. */
import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, mkdirSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface RunningHost {
  process: ChildProcess;
  port: number;
  log: string;
  /** SIGTERM, then the exit code (null when killed by a signal). */
  stop(): Promise<number | null>;
  /** SIGKILL: no drain, no commit. */
  kill(): Promise<void>;
  ready(timeoutMs?: number): Promise<void>;
}

let nextPort = 9500;
const started = new Set<ChildProcess>();

/** Kills every host a test started and left running (a failed assertion skips its own stop). */
export async function killStrays(): Promise<void> {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  started.clear();
}

export function startSluiceRun(processors: string[], env: NodeJS.ProcessEnv = {}): RunningHost {
  const port = nextPort++;
  mkdirSync(path.join(ROOT, ".sluice/logs"), { recursive: true });
  const log = path.join(ROOT, ".sluice/logs", `test-run-${port}.log`);
  const out = openSync(log, "a");
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "ops/cli/sluice.ts"), "run", ...processors, "--port", String(port)],
    {
      cwd: ROOT,
      env: { ...process.env, SLUICE_LOG_LEVEL: "warn", ...env },
      stdio: ["ignore", out, out],
    },
  );
  closeSync(out);
  started.add(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    process: child,
    port,
    log,
    async stop() {
      child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      child.kill("SIGKILL");
      await exited;
    },
    async ready(timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`sluice run exited with ${child.exitCode}; see ${log}`);
        const ok = await fetch(`http://127.0.0.1:${port}/health/ready`)
          .then((r) => r.ok)
          .catch(() => false);
        if (ok) return;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error(`sluice run not ready after ${timeoutMs}ms; see ${log}`);
    },
  };
}
