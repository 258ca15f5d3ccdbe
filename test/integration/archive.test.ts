/**
 * The archive sink on the real Kafka, into a directory and into S3Proxy: SIGKILLed at each point of a file's
 * life, it ends with the same files, byte for byte, as a run that was never killed, and every offset once.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { archiveSink } from "../../connectors/archive/archive-sink.ts";
import type { ArchiveStore } from "../../connectors/archive/archive-store.ts";
import { readContainer } from "../../connectors/archive/avro-container.ts";
import { replayArchive } from "../../connectors/archive/replay.ts";
import { S3Store } from "../../connectors/archive/s3-store.ts";
import { LOCAL_S3_ENDPOINT } from "../../ops/stack/components/s3proxy.ts";
import { AvroSerde, type CrashPoint, HEADER, routeOf, type SinkRunner } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { archiveTestStore, s3TestStore, TEST_ROTATION } from "../support/archive.ts";
import { FlakyProxy } from "../support/elasticsearch.ts";
import { consumeUntil, kafka, produceRaw } from "../support/kafka.ts";
import {
  dropTopics,
  eventually,
  produceMany,
  registry,
  schemas,
  startSinkRunner,
  testTopic,
} from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const BUCKET = "sluice-archive-test";
const runners: SinkRunner[] = [];
const created: BusinessTopic[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
  await killStrays();
  await dropTopics(created.splice(0));
});

afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-archive-"));
  dirs.push(dir);
  return dir;
}

function logEvent(i: number): LogEvent {
  return {
    appId: `svc-${i % 5}`,
    timestamp: BigInt(Date.now()),
    level: i % 10 === 0 ? "ERROR" : "INFO",
    message: `line ${i} ${"x".repeat(i % 200)}`,
    logger: "test",
    traceId: null,
    host: "test-host",
    fields: { seq: String(i) },
  };
}

/** Every file of the topic (data and manifests) by key, with its bytes. */
async function archived(store: ArchiveStore, topic: string): Promise<Map<string, Buffer>> {
  const today = new Date().toISOString().slice(0, 10);
  const files = new Map<string, Buffer>();
  for (const manifest of await store.manifests(topic, "2000-01-01", today)) {
    files.set(manifest.file, await store.read(manifest.file));
    files.set(`${manifest.file} (manifest)`, Buffer.from(JSON.stringify(manifest)));
  }
  return files;
}

/** Each partition's archived offsets, in file order. */
async function offsets(store: ArchiveStore, topic: string): Promise<Map<number, number[]>> {
  const today = new Date().toISOString().slice(0, 10);
  const byPartition = new Map<number, number[]>();
  for (const manifest of await store.manifests(topic, "2000-01-01", today)) {
    const { records } = await readContainer(await store.read(manifest.file));
    const list = byPartition.get(manifest.partition) ?? [];
    list.push(...records.map((r) => Number((r as { offset: bigint }).offset)));
    byPartition.set(manifest.partition, list);
  }
  return byPartition;
}

async function countArchived(store: ArchiveStore, topic: string): Promise<number> {
  const today = new Date().toISOString().slice(0, 10);
  return (await store.manifests(topic, "2000-01-01", today)).reduce((sum, m) => sum + m.count, 0);
}

/** Waits until the archive holds `total` records, or stops growing (the last files wait for idle or stop). */
async function settled(store: ArchiveStore, topic: string, total: number): Promise<void> {
  let last = -1;
  let stableSince = Date.now();
  await eventually(async () => {
    const count = await countArchived(store, topic);
    if (count !== last) {
      last = count;
      stableSince = Date.now();
    }
    return count === total || (count > 0 && Date.now() - stableSince > 4_000);
  }, 120_000);
}

/**
 * Archives the topic once without a crash (in this process) and once through `sluice run` killed at each point,
 * then compares.
 */
async function crashTest(
  target: { store: () => ArchiveStore; env: Record<string, string> },
  reference: ArchiveStore,
  points: string[],
) {
  const id = randomUUID().slice(0, 8);
  const topic = await testTopic("archive", { partitions: 2, valueSchema: "sluice.logs.LogEvent", key: "appId" });
  created.push(topic);
  const total = 6_000;
  await produceMany(topic, total, logEvent);

  const uncrashed = await startSinkRunner(
    archiveSink({ topic, name: `archive-ref-${id}`, store: reference, rotation: TEST_ROTATION }),
    [topic],
  );
  await settled(reference, topic.name, total);
  await uncrashed.stop(); // finishes the open files
  expect(await countArchived(reference, topic.name)).toBe(total);

  const store = target.store();
  const env = { TEST_ARCHIVE_TOPIC: topic.name, TEST_ARCHIVE_SINK: `archive-${id}`, ...target.env };
  const run = (crashAt?: string) =>
    startSluiceRun(["--module", "test/support/archive-module.ts", `archive-${id}`], {
      ...env,
      SLUICE_INSTANCE_ID: `archive-${id}`,
      ...(crashAt ? { SLUICE_CRASH_AT: crashAt } : {}),
    });
  for (const point of points) {
    const host = run(point);
    const exit = new Promise((resolve) => host.process.once("exit", (_code, signal) => resolve(signal)));
    expect(await Promise.race([exit, new Promise((r) => setTimeout(() => r("still running"), 60_000))])).toBe(
      "SIGKILL",
    );
  }
  const last = run();
  await last.ready();
  await settled(store, topic.name, total);
  expect(await last.stop()).toBe(0);

  const expected = await archived(reference, topic.name);
  const actual = await archived(store, topic.name);
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  expect(actual).toEqual(expected);
  const perPartition = await offsets(store, topic.name);
  const all = [...perPartition.values()].flat();
  expect(all).toHaveLength(total);
  for (const list of perPartition.values()) expect(list).toEqual(list.map((_, i) => i)); // 0..n-1, each once
}

const POINTS: `${CrashPoint}:${number}`[] = [
  "archive.writing:3",
  "archive.fsynced:2",
  "archive.renamed:2",
  "archive.published:2",
];

describe("archive sink", () => {
  it("ends with the same files as an uncrashed run, each offset once, when SIGKILLed at each point of a file's life", async () => {
    const dir = tempDir();
    await crashTest(
      { store: () => archiveTestStore({ TEST_ARCHIVE_DIR: dir }), env: { TEST_ARCHIVE_DIR: dir } },
      archiveTestStore({ TEST_ARCHIVE_DIR: tempDir() }),
      POINTS,
    );
  }, 300_000);

  it("sends records that are not LogEvents to its DLQ with the reason, archives the others, and replays them", async () => {
    const topic = await testTopic("archive-bad", { partitions: 1, valueSchema: "sluice.logs.LogEvent", key: "appId" });
    const into = await testTopic("archive-replay", {
      partitions: 3,
      valueSchema: "sluice.logs.LogEvent",
      key: "appId",
    });
    created.push(topic, into);
    await produceMany(topic, 100, logEvent);
    // Another team's producer: JSON, a value with the wrong magic byte, no value at all.
    await produceRaw(topic.name, [
      { key: "svc-x", value: Buffer.from('{"message":"hello"}') },
      { key: "svc-x", value: Buffer.from([1, 0, 0, 0, 1, 2]) },
      { key: "svc-x", value: null, headers: [["odd", Buffer.from([0xff])]] },
    ]);
    await produceMany(topic, 100, (i) => logEvent(100 + i));
    const store = archiveTestStore({ TEST_ARCHIVE_DIR: tempDir() });
    const name = `archive-bad-${randomUUID().slice(0, 8)}`;
    const sink = archiveSink({ topic, name, store, rotation: { idleMs: 500 } }); // one file, finished once idle
    const runner = await startSinkRunner(sink, [topic]);
    const dlq = await consumeUntil(routeOf(sink).dlqTopic, (records) => records.length >= 3, 30_000);
    await settled(store, topic.name, 200);
    await runner.stop();
    expect(await countArchived(store, topic.name)).toBe(200);

    expect(dlq.map((r) => r.headers[HEADER.errorClass])).toEqual(["BAD_MAGIC_BYTE", "BAD_MAGIC_BYTE", "MISSING_VALUE"]);
    expect(dlq.map((r) => r.headers[HEADER.originalOffset])).toEqual(["100", "101", "102"]);
    const archivedOffsets = (await offsets(store, topic.name)).get(0);
    expect(archivedOffsets).toEqual([
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 100 }, (_, i) => 103 + i),
    ]);

    // Replayed into another topic: the same keys, headers, timestamps and values, each key in order.
    const producer = kafka.producer({ lingerMs: 5 });
    await producer.connect();
    const schema = schemas.get("sluice.logs.LogEvent");
    if (!schema) throw new Error("no LogEvent schema");
    const serde = new AvroSerde(registry);
    const now = Date.now();
    const replayed = await replayArchive({
      store,
      topic: topic.name,
      from: now - 3_600_000,
      to: now + 1,
      into: into.name,
      schema,
      producer,
      serde,
    });
    await producer.disconnect();
    expect(replayed).toEqual({ files: 1, records: 200 });
    const original = await consumeUntil(topic.name, (records) => records.length >= 203);
    const copies = await consumeUntil(into.name, (records) => records.length >= 200);
    const view = async (r: (typeof copies)[number]) => ({
      key: r.key,
      timestamp: r.timestamp,
      eventId: r.headers[HEADER.eventId],
      value: (await serde.decode(r.value as Buffer)).value,
    });
    const byEventId = (a: { eventId?: string }, b: { eventId?: string }) =>
      String(a.eventId).localeCompare(String(b.eventId));
    const expected = await Promise.all(original.filter((r) => r.headers[HEADER.eventId]).map(view));
    expect((await Promise.all(copies.map(view))).sort(byEventId)).toEqual(expected.sort(byEventId));
    const seqsOf = async (records: typeof copies, service: string) =>
      Promise.all(records.filter((r) => r.key === service).map(async (r) => (await view(r)).value as LogEvent)).then(
        (values) => values.map((v) => v.fields.seq),
      );
    for (const service of ["svc-0", "svc-3"]) {
      expect(await seqsOf(copies, service)).toEqual(await seqsOf(original, service));
    }
  });

  it("does the same into an S3-compatible store (S3Proxy)", async () => {
    const prefix = `crash-${randomUUID().slice(0, 8)}`;
    const spool = tempDir();
    const reference = s3TestStore(BUCKET, `ref-${prefix}`, tempDir());
    await reference.ensureBucket();
    await crashTest(
      {
        store: () => s3TestStore(BUCKET, prefix, spool),
        env: { TEST_ARCHIVE_S3_BUCKET: BUCKET, TEST_ARCHIVE_S3_PREFIX: prefix, TEST_ARCHIVE_DIR: spool },
      },
      reference,
      ["archive.renamed:2", "archive.published:2"],
    );
  }, 300_000);

  it("waits out an S3 store that refuses connections, paused, then archives every record once", async () => {
    const proxy = new FlakyProxy(LOCAL_S3_ENDPOINT);
    await proxy.start();
    try {
      const topic = await testTopic("archive-down", {
        partitions: 2,
        valueSchema: "sluice.logs.LogEvent",
        key: "appId",
      });
      created.push(topic);
      const prefix = `down-${randomUUID().slice(0, 8)}`;
      const location = { bucket: BUCKET, prefix, endpoint: proxy.url, region: "us-east-1" };
      const store = new S3Store(location, path.join(tempDir(), "spool"));
      await store.ensureBucket();
      const sink = archiveSink({
        topic,
        name: `archive-down-${prefix}`,
        store,
        rotation: { maxRecords: 200, idleMs: 1_000 },
      });
      runners.push(await startSinkRunner(sink, [topic]));
      await proxy.set("refuse");
      await produceMany(topic, 1_000, logEvent);
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      expect(await countArchived(s3TestStore(BUCKET, prefix, tempDir()), topic.name)).toBe(0);
      await proxy.set("pass");
      // Partitions retry on a doubling backoff (up to 8-16s after an outage this long): they come back one by one.
      expect(await eventually(async () => (await countArchived(store, topic.name)) === 1_000, 60_000)).toBe(true);
      const perPartition = await offsets(store, topic.name);
      expect([...perPartition.values()].flat()).toHaveLength(1_000);
      for (const list of perPartition.values()) expect(list).toEqual(list.map((_, i) => i));
    } finally {
      await proxy.stop();
    }
  });
});
