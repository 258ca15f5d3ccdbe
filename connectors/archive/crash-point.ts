/**
 * Named points of the archive's write path where a test can have the process SIGKILLed, to check that a crash
 * anywhere ends with the same files and every record exactly once. `SLUICE_ARCHIVE_CRASH_AT=<point>:<n>` kills
 * the process the n-th time it passes `<point>`; unset (always, outside tests), this does nothing.
 */
export type CrashPoint = "writing" | "fsynced" | "renamed" | "published";

const [crashAt, nth] = (process.env.SLUICE_ARCHIVE_CRASH_AT ?? "").split(":");
let passed = 0;

export function crashPoint(point: CrashPoint): void {
  if (point !== crashAt) return;
  passed++;
  if (passed === Number(nth ?? 1)) process.kill(process.pid, "SIGKILL");
}
