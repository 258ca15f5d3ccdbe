/**
 * The sinks' figures, each beside a baseline measured in the same run on the same records:
 *
 *   es_sink_rps       `sluice run` of the Elasticsearch log sink (a child process, as in production): LogEvents
 *                     read from 12 partitions, decoded, indexed through _bulk, committed; timed from its first commit
 *   es_raw_bulk_rps   the same documents sent by a plain loop of _bulk requests of the sink's batch size, one at a
 *                     time, as the sink asks (the same response filter): Elasticsearch's own pace on this machine,
 *                     with no Kafka in between
 *   shipper_rps       a pino logger writing through the log shipper: lines a second from the first log call until
 *                     close() has every line acknowledged by Kafka
 *   archive_mb_s      `sluice run` of the archive sink on the same records into a local directory (files of 2,000
 *                     records, finished 200ms after the last): the records' value bytes a second, from its first
 *                     commit until every record is committed (in fsynced, renamed files)
 *   raw_file_mb_s     the same number of bytes written to one file in 64 KiB writes, then fsynced: the disk's pace
 *   *_cpu_us_per_doc  CPU microseconds a document of the sink process, of the raw loop, and of the local
 *                     Elasticsearch in each run: on a shared machine, where the time goes
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino from "pino";
import { logIndexTemplate } from "../../connectors/elasticsearch/index-template.ts";
import { LOG_INDEX_PATTERN, logDocument } from "../../connectors/elasticsearch/log-document.ts";
import { BULK_RESPONSE_FIELDS, elasticsearchClient } from "../../connectors/elasticsearch/log-sink.ts";
import { LogShipper } from "../../connectors/log-shipper/log-shipper.ts";
import { runtimeConfig } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import { createTopics, dropTopics, produceMany } from "../support/runtime.ts";
import { startSluiceRun } from "../support/sluice-run.ts";
import { testTopicSpec } from "../support/topics.ts";
import { cpuMs, localPid } from "./cpu.ts";

export interface SinkFigures {
  es_documents: number;
  es_sink_rps: number;
  es_raw_bulk_rps: number;
  shipper_lines: number;
  shipper_rps: number;
  sink_cpu_us_per_doc: number;
  raw_bulk_cpu_us_per_doc: number;
  /** Of the local Elasticsearch, while the sink ran and while the raw loop ran (absent when it is not local). */
  es_cpu_us_per_doc?: { sink: number; raw_bulk: number };
  archive_rps: number;
  archive_mb_s: number;
  archive_file_bytes_per_record: number;
  raw_file_mb_s: number;
  ratios: { es_sink_vs_raw_bulk: number; archive_vs_raw_file: number };
}

const DOCUMENTS = Number(process.env.BENCH_SINK_DOCUMENTS || 100_000);
const SHIPPER_LINES = Number(process.env.BENCH_SHIPPER_LINES || 100_000);
/** The log sink's batch size (connectors/elasticsearch/log-sink.ts). */
const BULK_DOCUMENTS = 2_000;

function logEvent(service: string, i: number): LogEvent {
  return {
    appId: `${service}-${i % 12}`,
    timestamp: BigInt(Date.now()),
    level: i % 20 === 0 ? "ERROR" : "INFO",
    message: i % 20 === 0 ? "payment gateway timed out" : `request served in ${i % 300} ms`,
    logger: "http",
    traceId: randomUUID(),
    host: "bench-1",
    fields: { "http.response.status_code": i % 20 === 0 ? "502" : "200", "url.path": `/cart/${i % 50}` },
  };
}

export async function benchSinks(
  committedRate: (group: string, topic: string, total: number) => Promise<number>,
  log: (line: string) => void,
): Promise<SinkFigures> {
  const run = randomUUID().slice(0, 8);
  const es = elasticsearchClient();
  const service = `bench-${run}`;
  const topic = testTopicSpec(`test.bench-logs.${run}`, {
    partitions: 12,
    valueSchema: "sluice.logs.LogEvent",
    key: "appId",
  });
  await createTopics([topic]);
  try {
    const valueBytes = await produceMany(topic, DOCUMENTS, (i) => logEvent(service, i));
    log(`  sinks: ${DOCUMENTS} LogEvents on ${topic.name}`);

    // The raw loop may be the first to write to the day's index: it is created from the sink's template, as the
    // sink would create it, not with dynamic mappings that the log pipeline's tests would then find.
    await es.indices.putIndexTemplate(logIndexTemplate(LOG_INDEX_PATTERN, runtimeConfig().replicationFactor - 1));
    const esPid = localPid("org.elasticsearch.bootstrap.Elasticsearch");
    const esCpu = () => (esPid ? cpuMs(esPid) : 0);
    const rawService = `${service}-raw`;
    const rawCpuStart = process.cpuUsage();
    const rawEsStart = esCpu();
    const started = performance.now();
    for (let from = 0; from < DOCUMENTS; from += BULK_DOCUMENTS) {
      const operations = Array.from({ length: Math.min(BULK_DOCUMENTS, DOCUMENTS - from) }, (_, j) => {
        const document = logDocument(logEvent(rawService, from + j), randomUUID());
        return [{ index: { _index: document.index, _id: document.id } }, document.source];
      }).flat();
      const response = await es.bulk({ operations, filter_path: BULK_RESPONSE_FIELDS });
      if (response.errors) throw new Error("the raw _bulk loop had rejected documents");
    }
    const rawRps = DOCUMENTS / ((performance.now() - started) / 1000);
    const rawUsage = process.cpuUsage(rawCpuStart);
    const rawCpuUs = (rawUsage.user + rawUsage.system) / DOCUMENTS;
    const rawEsUs = ((esCpu() - rawEsStart) * 1000) / DOCUMENTS;
    log(`  raw _bulk loop ${rawRps.toFixed(0)} documents/s`);

    const group = `log-sink-${service}`;
    const host = startSluiceRun(["--module", "test/support/log-sink-module.ts", group], {
      TEST_LOG_TOPIC: topic.name,
      TEST_LOG_SINK: group,
    });
    await host.ready();
    const sinkCpuStart = cpuMs(host.process.pid);
    const sinkEsStart = esCpu();
    const sinkRps = await committedRate(group, topic.name, DOCUMENTS);
    const sinkCpuUs = ((cpuMs(host.process.pid) - sinkCpuStart) * 1000) / DOCUMENTS;
    const sinkEsUs = ((esCpu() - sinkEsStart) * 1000) / DOCUMENTS;
    await host.stop();
    log(`  log sink ${sinkRps.toFixed(0)} documents/s (${(sinkRps / rawRps).toFixed(2)} × the raw _bulk loop)`);
    log(
      `  CPU µs a document: sink process ${sinkCpuUs.toFixed(0)}, raw loop ${rawCpuUs.toFixed(0)}` +
        (esPid ? `; Elasticsearch ${sinkEsUs.toFixed(0)} (sink) / ${rawEsUs.toFixed(0)} (raw loop)` : ""),
    );

    const archive = await benchArchive(topic.name, `archive-${service}`, valueBytes * DOCUMENTS, committedRate);
    log(
      `  archive ${archive.rps.toFixed(0)} records/s, ${archive.archiveMbS.toFixed(1)} MB/s of values (${(archive.archiveMbS / archive.rawMbS).toFixed(2)} × ` +
        `a raw file write, ${archive.rawMbS.toFixed(0)} MB/s); ${archive.fileBytesPerRecord.toFixed(0)} file bytes a record`,
    );

    // A queue as long as the burst: the figure is how fast the shipper drains, not how much a full queue drops.
    const shipper = new LogShipper({ service: `${service}-shipper`, maxQueuedLines: SHIPPER_LINES });
    const logger = pino({ ...ecsFormat(), name: "bench" }, shipper);
    const shipStart = performance.now();
    for (let i = 0; i < SHIPPER_LINES; i++) logger.info({ "url.path": `/cart/${i % 50}`, i }, "request served");
    const stats = await shipper.close(120_000);
    const shipperRps = stats.shipped / ((performance.now() - shipStart) / 1000);
    log(`  log shipper ${shipperRps.toFixed(0)} lines/s (${stats.shipped} shipped, ${stats.dropped} dropped)`);

    return {
      es_documents: DOCUMENTS,
      es_sink_rps: Math.round(sinkRps),
      es_raw_bulk_rps: Math.round(rawRps),
      shipper_lines: SHIPPER_LINES,
      shipper_rps: Math.round(shipperRps),
      sink_cpu_us_per_doc: Math.round(sinkCpuUs),
      raw_bulk_cpu_us_per_doc: Math.round(rawCpuUs),
      ...(esPid ? { es_cpu_us_per_doc: { sink: Math.round(sinkEsUs), raw_bulk: Math.round(rawEsUs) } } : {}),
      archive_rps: Math.round(archive.rps),
      archive_mb_s: Number(archive.archiveMbS.toFixed(1)),
      archive_file_bytes_per_record: Math.round(archive.fileBytesPerRecord),
      raw_file_mb_s: Math.round(archive.rawMbS),
      ratios: {
        es_sink_vs_raw_bulk: Number((sinkRps / rawRps).toFixed(2)),
        archive_vs_raw_file: Number((archive.archiveMbS / archive.rawMbS).toFixed(3)),
      },
    };
  } finally {
    // The bench's documents leave the day's index as they came.
    await es
      .deleteByQuery({ index: LOG_INDEX_PATTERN, query: { prefix: { "service.name": service } }, conflicts: "proceed" })
      .catch(() => {});
    await es.close();
    await dropTopics([topic]).catch(() => {});
  }
}

/** The archive sink on the topic, into a temporary directory; then a raw write of as many bytes. */
async function benchArchive(
  topic: string,
  group: string,
  totalValueBytes: number,
  committedRate: (group: string, topic: string, total: number) => Promise<number>,
) {
  const dir = mkdtempSync(path.join(tmpdir(), "sluice-bench-archive-"));
  try {
    const host = startSluiceRun(["--module", "test/support/archive-module.ts", group], {
      TEST_ARCHIVE_TOPIC: topic,
      TEST_ARCHIVE_SINK: group,
      TEST_ARCHIVE_DIR: dir,
      TEST_ARCHIVE_MAX_RECORDS: "2000",
      TEST_ARCHIVE_IDLE_MS: "200",
    });
    await host.ready();
    const rps = await committedRate(group, topic, DOCUMENTS);
    await host.stop();
    const files = readdirSync(path.join(dir, topic), { recursive: true, withFileTypes: true }).filter((f) =>
      f.name.endsWith(".avro"),
    );
    const fileBytes = files.reduce((sum, f) => sum + statSync(path.join(f.parentPath, f.name)).size, 0);

    const block = Buffer.alloc(64 * 1024, 7);
    const raw = await open(path.join(dir, "raw.bin"), "w");
    const started = performance.now();
    for (let written = 0; written < totalValueBytes; written += block.length) await raw.write(block);
    await raw.sync();
    const rawSeconds = (performance.now() - started) / 1000;
    await raw.close();
    return {
      rps,
      archiveMbS: (rps * (totalValueBytes / DOCUMENTS)) / 1e6,
      rawMbS: totalValueBytes / rawSeconds / 1e6,
      fileBytesPerRecord: fileBytes / DOCUMENTS,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
