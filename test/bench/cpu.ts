/** CPU time a local process has used, from /proc: what the bench divides by records to get a cost per record. */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** User and system CPU milliseconds of `pid` so far (all its threads). */
export function cpuMs(pid: number | undefined): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** The pid of the local process whose command line matches `pattern`; undefined when none runs here. */
export function localPid(pattern: string): number | undefined {
  try {
    return Number(execFileSync("pgrep", ["-o", "-f", pattern], { encoding: "utf8" }).trim()) || undefined;
  } catch {
    return undefined;
  }
}
