/**
 * Background processes owned by the stack. A component that `up` starts leaves a pid file in .sluice/run;
 * `down` stops only processes it finds there, so services it merely reused are never touched.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { stackConfig } from "./stack-config.ts";

export interface SpawnSpec {
  command: string;
  args: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Run as this user (Elasticsearch refuses to run as root). */
  uid?: number;
  gid?: number;
}

export const logFile = (name: string) => path.join(stackConfig().logDir, `${name}.log`);
const pidFile = (name: string) => path.join(stackConfig().runDir, `${name}.pid`);

export function startDetached(name: string, spec: SpawnSpec): number {
  mkdirSync(stackConfig().logDir, { recursive: true });
  mkdirSync(stackConfig().runDir, { recursive: true });
  const out = openSync(logFile(name), "a");
  const child = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    uid: spec.uid,
    gid: spec.gid,
    detached: true,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
  child.unref();
  writeFileSync(pidFile(name), String(child.pid));
  return child.pid;
}

/** The pid of a process this stack started and that is still alive. */
export function ownedPid(name: string): number | undefined {
  if (!existsSync(pidFile(name))) return undefined;
  const pid = Number(readFileSync(pidFile(name), "utf8"));
  if (Number.isInteger(pid) && isAlive(pid)) return pid;
  rmSync(pidFile(name), { force: true });
  return undefined;
}

/** SIGTERM, then SIGKILL after `graceMs`. Returns false when the stack did not own a live process. */
export async function stopOwned(name: string, graceMs = 30_000): Promise<boolean> {
  const pid = ownedPid(name);
  if (pid === undefined) return false;
  signal(pid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) signal(pid, "SIGKILL");
  rmSync(pidFile(name), { force: true });
  return true;
}

/** Marks a machine service (PostgreSQL, Redis) that `up` started, so that `down` stops it again. */
export function markStarted(name: string): void {
  mkdirSync(stackConfig().runDir, { recursive: true });
  writeFileSync(path.join(stackConfig().runDir, `${name}.started`), new Date().toISOString());
}

export function takeStartedMark(name: string): boolean {
  const mark = path.join(stackConfig().runDir, `${name}.started`);
  if (!existsSync(mark)) return false;
  rmSync(mark);
  return true;
}

export function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return `(no log at ${file})`;
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    // The process leads its own group (detached): signal the group so wrappers and children stop too.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {}
  }
}
