/** The reference services and the outbox relay as child processes, as they run in production: started, killed. */
import { type ChildProcess, spawn } from "node:child_process";

export interface ChildService {
  child: ChildProcess;
  /** The signal it ended with (null: it exited by itself). */
  exited: Promise<NodeJS.Signals | null>;
}

const children = new Set<ChildProcess>();
let nextPort = 9600;

function start(args: string[], env: NodeJS.ProcessEnv): ChildService {
  const child = spawn(process.execPath, ["ops/cli/sluice.ts", ...args], {
    env: { ...process.env, SLUICE_LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.add(child);
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once("exit", (_code, signal) => resolve(signal)),
  );
  return { child, exited };
}

/** `sluice outbox relay`. */
export function startRelay(env: NodeJS.ProcessEnv = {}): ChildService {
  return start(["outbox", "relay"], env);
}

/** `sluice serve <name>` on a port of its own; resolves once it answers /health/ready. */
export async function startService(
  name: "orders" | "users" | "flashsale" | "videos",
  env: NodeJS.ProcessEnv = {},
  port = nextPort++,
): Promise<ChildService & { url: string }> {
  const service = { ...start(["serve", name, "--port", String(port)], env), url: `http://127.0.0.1:${port}` };
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && service.child.exitCode === null) {
    const ok = await fetch(`${service.url}/health/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return service;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`sluice serve ${name} did not become ready`);
}

/** SIGKILLs every child a test started and left running. */
export function killChildren(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  children.clear();
}
