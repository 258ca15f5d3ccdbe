/**
 * Named points where a test can have the process SIGKILLed, to check that a crash there loses and doubles nothing
 * (the archive's write path, the outbox relay between Kafka's acknowledgement and the mark, the order service
 * before its commit). `SLUICE_CRASH_AT=<point>:<n>` kills the process the n-th time it passes `<point>`; unset
 * (always, outside tests), this does nothing.
 */
export type CrashPoint =
  | "archive.writing"
  | "archive.fsynced"
  | "archive.renamed"
  | "archive.published"
  | "outbox.produced"
  | "orders.before-commit";

const [crashAt, nth] = (process.env.SLUICE_CRASH_AT ?? "").split(":");
let passed = 0;

export function crashPoint(point: CrashPoint): void {
  if (point !== crashAt) return;
  passed++;
  if (passed === Number(nth ?? 1)) process.kill(process.pid, "SIGKILL");
}
