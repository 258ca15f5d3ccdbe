/**
 * `sluice logs ship` as a service in another language uses it: a child process following a log file that keeps
 * growing, is rotated, and outlives a restart and a SIGKILL of the shipper.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { AvroSerde, HEADER } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import { sluice } from "../support/cli.ts";
import { consumeUntil } from "../support/kafka.ts";
import { eventually, registry } from "../support/runtime.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill("SIGKILL");
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function shipper(service: string, file: string, checkpoint: string) {
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "ops/cli/sluice.ts"), "logs", "ship", "--service", service, "--checkpoint", checkpoint, file],
    { cwd: ROOT, stdio: "ignore" },
  );
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const signal = (name: NodeJS.Signals) => {
    child.kill(name);
    return exited;
  };
  return { stop: () => signal("SIGTERM"), kill: () => signal("SIGKILL") };
}

/** The byte after the last shipped line of `file`, as the checkpoint has it. */
function checkpointed(checkpoint: string, file: string): number {
  try {
    return JSON.parse(readFileSync(checkpoint, "utf8"))[file]?.offset ?? 0;
  } catch {
    return 0;
  }
}

describe("logs ship", () => {
  it("neither loses nor repeats a line across a restart, a SIGKILL and a rotation", async () => {
    dir = mkdtempSync(path.join(tmpdir(), "sluice-ship-"));
    const service = `legacy-${randomUUID().slice(0, 8)}`;
    const file = path.join(dir, "app.log");
    const checkpoint = path.join(dir, "ship.checkpoint.json");
    let written = 0;
    const writeLines = (count: number) => {
      const lines = Array.from({ length: count }, (_, i) => {
        const n = written + i;
        return n % 3 === 0
          ? JSON.stringify({ level: "error", msg: `line ${n}`, time: Date.now() })
          : `2026-11-27T10:00:00Z INFO line ${n}`;
      });
      written += count;
      appendFileSync(file, `${lines.join("\n")}\n`);
    };

    writeLines(2_000);
    let run = shipper(service, file, checkpoint);
    expect(await eventually(() => checkpointed(checkpoint, file) > 0, 30_000)).toBe(true);
    writeLines(1_000);
    expect(await run.stop()).toBe(0);
    writeLines(1_000); // while it is stopped

    run = shipper(service, file, checkpoint);
    writeLines(1_000);
    const size = () => readFileSync(file).length;
    expect(await eventually(() => checkpointed(checkpoint, file) === size(), 30_000)).toBe(true);
    writeLines(500);
    await run.kill(); // perhaps after Kafka took a batch and before the checkpoint says so
    renameSync(file, `${file}.1`); // rotated while the shipper is down: the rest of the old file is still shipped
    writeLines(1_000);

    run = shipper(service, file, checkpoint);
    expect(await eventually(() => checkpointed(checkpoint, file) === size(), 30_000)).toBe(true);
    expect(await run.stop()).toBe(0);

    const serde = new AvroSerde(registry);
    const records = (
      await consumeUntil(
        "logs.app",
        (all) => new Set(all.filter((r) => r.key === service).map((r) => r.headers[HEADER.eventId])).size >= written,
        60_000,
        1_000,
      )
    ).filter((r) => r.key === service);
    // A batch Kafka took just before the SIGKILL may come again, under the same event ids: the sink overwrites.
    const byId = new Map(records.map((r) => [r.headers[HEADER.eventId], r]));
    expect(byId.size).toBe(written);
    const events = await Promise.all(
      [...byId.values()].map(async (r) => (await serde.decode(r.value as Buffer)).value as LogEvent),
    );
    expect(new Set(events.map((e) => /line \d+/.exec(e.message)?.[0])).size).toBe(written);
    expect(events.filter((e) => e.level === "ERROR").length).toBe(Math.ceil(written / 3));
  }, 180_000);

  it("refuses a missing --service and a bad --older-than with one line", async () => {
    const ship = await sluice(["logs", "ship", "some.log"]);
    expect(ship.code).toBe(2);
    expect(ship.stderr.trim()).toMatch(/^sluice: logs ship: --service NAME is required/);
    const prune = await sluice(["logs", "prune", "--older-than", "a week"]);
    expect(prune.code).toBe(2);
    expect(prune.stderr.trim().split("\n")).toHaveLength(1);
  });
});
