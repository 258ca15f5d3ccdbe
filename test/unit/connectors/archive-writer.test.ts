import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import avro from "avsc";
import { afterEach, describe, expect, it } from "vitest";
import { type ArchiveStore, DirectoryStore } from "../../../connectors/archive/archive-store.ts";
import { ArchiveWriter, type Rotation } from "../../../connectors/archive/archive-writer.ts";
import { readContainer } from "../../../connectors/archive/avro-container.ts";
import type { SinkRecord } from "../../../runtime/index.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";

const LOG_EVENT = JSON.parse(loadSchemaFiles().get("sluice.logs.LogEvent")?.text ?? "null");
const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 10, 27, 10, 59, 55);
const rotation: Rotation = { maxRecords: 100, maxBytes: 1 << 30, intervalMs: HOUR, idleMs: 60_000 };
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function store(): DirectoryStore {
  const dir = mkdtempSync(path.join(tmpdir(), "archive-"));
  dirs.push(dir);
  return new DirectoryStore(dir);
}

function record(partition: number, offset: number, timestamp = T0 + offset * 100): SinkRecord<unknown> {
  const value = {
    appId: "shop",
    timestamp: BigInt(timestamp),
    level: "INFO",
    message: `line ${offset}`,
    logger: "test",
    traceId: null,
    host: "h",
    fields: { seq: String(offset) },
  };
  return {
    topic: "logs.app",
    partition,
    offset: String(offset),
    key: "shop",
    value,
    headers: { "event-id": `e-${partition}-${offset}` },
    eventId: `e-${partition}-${offset}`,
    timestamp,
    bytes: 100,
    schemaId: 7,
  };
}

const records = (partition: number, from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => record(partition, from + i));

/** Every file under the archive's topic directory, by path, with its bytes. */
function files(root: string): Map<string, Buffer> {
  const found = new Map<string, Buffer>();
  for (const entry of readdirSync(path.join(root, "logs.app"), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) {
      const file = path.join(entry.parentPath, entry.name);
      found.set(path.relative(root, file), readFileSync(file));
    }
  }
  return found;
}

async function offsetsIn(target: ArchiveStore, from = "2026-11-27", to = "2026-11-27"): Promise<number[]> {
  const offsets: number[] = [];
  for (const manifest of await target.manifests("logs.app", from, to)) {
    const { records } = await readContainer(await target.read(manifest.file));
    offsets.push(...records.map((r) => Number((r as { offset: bigint }).offset)));
  }
  return offsets;
}

describe("archive writer", () => {
  it("writes Avro container files any Avro reader opens, rotated by count and by hour, with manifests", async () => {
    const target = store();
    const writer = new ArchiveWriter("logs.app", LOG_EVENT, target, rotation);
    // 1,000 records 100ms apart from 10:59:55: the first 50 in hour 10, the rest in hour 11.
    const durable = await writer.take(records(0, 0, 1_000), 0);
    expect(durable.map((d) => d.offset)).toEqual(["49", "149", "249", "349", "449", "549", "649", "749", "849", "949"]);
    expect(await writer.flush([0])).toEqual([{ topic: "logs.app", partition: 0, offset: "999" }]);

    const manifests = await target.manifests("logs.app", "2026-11-27", "2026-11-27");
    expect(manifests.map((m) => m.file).slice(0, 2)).toEqual([
      "logs.app/dt=2026-11-27/hour=10/logs.app+0+0.avro",
      "logs.app/dt=2026-11-27/hour=11/logs.app+0+50.avro",
    ]);
    const first = manifests[1];
    expect(first).toMatchObject({ partition: 0, startOffset: "50", endOffset: "149", count: 100, schemaId: 7 });
    expect(first?.firstTimestamp).toBe(T0 + 5_000);
    // avsc's own file decoder reads the file, schema and all.
    const decoded: { offset: bigint; key: string; value: { message: string } }[] = [];
    await new Promise<void>((resolve, reject) =>
      avro
        .createFileDecoder(path.join(target.description, first?.file ?? ""))
        .on("data", (r) => decoded.push(r))
        .on("end", resolve)
        .on("error", reject),
    );
    expect(decoded).toHaveLength(100);
    expect(decoded[42]).toMatchObject({ key: "shop", value: { message: "line 92" } });
    expect(await offsetsIn(target)).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it("skips records it already took, and a partition read again after a crash rewrites the same bytes", async () => {
    const uncrashed = store();
    const once = new ArchiveWriter("logs.app", LOG_EVENT, uncrashed, rotation);
    await once.take(records(1, 0, 250), 0);
    await once.take(records(1, 100, 250), 0); // read again after a failed write: nothing twice
    await once.flush([1]);

    const crashed = store();
    const first = new ArchiveWriter("logs.app", LOG_EVENT, crashed, rotation);
    // 0-49 (hour 10) and 50-149 published and committed, 150-180 in the open file; then the process dies.
    await first.take(records(1, 0, 181), 0);
    const second = new ArchiveWriter("logs.app", LOG_EVENT, crashed, rotation);
    await second.take(records(1, 150, 250), 0); // read again from the committed offset

    await second.flush([1]);
    expect(files(crashed.description)).toEqual(files(uncrashed.description));
    expect(files(crashed.description).size).toBe(6); // 0-49, 50-149, 150-249 with their manifests
  });

  it("goes on after a file it published before a crash and did not commit, instead of writing it twice", async () => {
    const target = store();
    const first = new ArchiveWriter("logs.app", LOG_EVENT, target, { ...rotation, idleMs: 10 });
    await first.take(records(2, 0, 30), 0);
    expect(await first.due(1_000)).toEqual([{ topic: "logs.app", partition: 2, offset: "29" }]); // idle: 0-29
    // The commit of 29 is lost: the partition is read again from 0, and this run would cut at 100.
    const second = new ArchiveWriter("logs.app", LOG_EVENT, target, rotation);
    const durable = await second.take(records(2, 0, 131), 2_000);
    expect(durable).toEqual([
      { topic: "logs.app", partition: 2, offset: "29" },
      { topic: "logs.app", partition: 2, offset: "49" }, // the hour ends at 49
    ]);
    await second.flush([2]);
    expect(await offsetsIn(target)).toEqual(Array.from({ length: 131 }, (_, i) => i));
  });
});
