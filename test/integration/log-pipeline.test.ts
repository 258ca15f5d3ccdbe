/**
 * The log pipeline on the real stack: a service's pino logs through the shipper to logs.app, the Elasticsearch
 * sink into the daily indices, and what happens when Elasticsearch rejects a document, is unavailable, or the
 * sink is killed mid-stream.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { ecsFormat } from "@elastic/ecs-pino-format";
import pino from "pino";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { logSink } from "../../connectors/elasticsearch/log-sink.ts";
import { LogShipper } from "../../connectors/log-shipper/log-shipper.ts";
import { HEADER, librdkafka, type SinkRunner } from "../../runtime/index.ts";
import type { LogEvent } from "../../schemas/types.generated.ts";
import { TOPICS } from "../../topics/catalog.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { countLogs, es, eventIdsOf, FlakyProxy } from "../support/elasticsearch.ts";
import { consumeUntil } from "../support/kafka.ts";
import { dropTopics, eventually, produceMany, startSinkRunner, testTopic } from "../support/runtime.ts";
import { killStrays, startSluiceRun } from "../support/sluice-run.ts";

const runners: SinkRunner[] = [];
const created: BusinessTopic[] = [];

afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.stop();
  await killStrays();
  await dropTopics(created.splice(0));
});

afterAll(() => es.close());

async function logTopic(prefix: string, partitions: number): Promise<BusinessTopic> {
  const topic = await testTopic(prefix, { partitions, valueSchema: "sluice.logs.LogEvent", key: "appId" });
  created.push(topic);
  return topic;
}

function logEvent(service: string, i: number, fields: Record<string, string> = {}): LogEvent {
  return {
    appId: service,
    timestamp: BigInt(Date.now()),
    level: i % 10 === 0 ? "ERROR" : "INFO",
    message: `line ${i}`,
    logger: "test",
    traceId: null,
    host: "test-host",
    fields: { seq: String(i), ...fields },
  };
}

const byService = (service: string) => ({ term: { "service.name": service } });

describe("log pipeline", () => {
  it("ships a service's pino logs to Elasticsearch, searchable by ECS fields and typed where the template types them", async () => {
    const service = `shop-${randomUUID().slice(0, 8)}`;
    runners.push(await startSinkRunner(logSink({ name: `log-sink-${service}` }), TOPICS));
    const shipper = new LogShipper({ service });
    const log = pino({ ...ecsFormat(), name: "checkout" }, shipper);
    for (let i = 0; i < 1_000; i++) {
      if (i % 10 === 0) {
        log.error({ "http.response.status_code": 502, "client.ip": "10.0.0.7", orderId: `o-${i}` }, "payment failed");
      } else {
        log.info({ orderId: `o-${i}` }, "order placed");
      }
    }
    expect(await shipper.close(20_000)).toMatchObject({ shipped: 1_000, dropped: 0, queued: 0 });

    expect(await eventually(async () => (await countLogs(byService(service))) === 1_000, 45_000)).toBe(true);
    const errors = { bool: { filter: [byService(service), { term: { "log.level": "error" } }] } };
    expect(await countLogs(errors)).toBe(100);
    const failedUpstream = {
      bool: { filter: [byService(service), { range: { "http.response.status_code": { gte: 500 } } }] },
    };
    expect(await countLogs(failedUpstream)).toBe(100);
    const inSubnet = { bool: { filter: [byService(service), { term: { "client.ip": "10.0.0.0/24" } }] } };
    expect(await countLogs(inSubnet)).toBe(100);
    expect(await countLogs({ bool: { filter: [byService(service), { term: { "labels.orderId": "o-7" } }] } })).toBe(1);
    expect(await countLogs({ bool: { filter: [byService(service), { match: { message: "payment" } }] } })).toBe(100);
  });

  it("sends a document that conflicts with the mapping to the DLQ with Elasticsearch's reason; the others index", async () => {
    const service = `conflict-${randomUUID().slice(0, 8)}`;
    const topic = await logTopic("log-conflict", 1);
    const sink = logSink({ name: `log-sink-${service}`, input: topic.name });
    await produceMany(topic, 20, (i) => logEvent(service, i, i === 7 ? { "client.ip": "not-an-ip" } : {}));
    runners.push(await startSinkRunner(sink, [topic]));

    expect(await eventually(async () => (await countLogs(byService(service))) === 19, 30_000)).toBe(true);
    const dlq = await consumeUntil(`${topic.name}.${sink.name}.dlq`, (records) => records.length >= 1, 20_000, 500);
    expect(dlq).toHaveLength(1);
    expect(dlq[0]?.headers[HEADER.originalOffset]).toBe("7");
    expect(dlq[0]?.headers[HEADER.errorClass]).toBe("document_parsing_exception");
    expect(dlq[0]?.headers[HEADER.errorMessage]).toMatch(/client\.ip.*of type \[ip\]/);
  });

  it("rides out an Elasticsearch that answers 429 and then refuses connections: paused, not spinning, nothing lost", async () => {
    const service = `outage-${randomUUID().slice(0, 8)}`;
    const topic = await logTopic("log-outage", 3);
    const proxy = new FlakyProxy();
    await proxy.start();
    try {
      const sink = logSink({ name: `log-sink-${service}`, input: topic.name, url: proxy.url });
      runners.push(await startSinkRunner(sink, [topic]));
      await proxy.set("429");
      await produceMany(topic, 3_000, (i) => logEvent(service, i));
      const before = proxy.requests;
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      // Each of 3 partitions tries again after a doubling, jittered backoff (0.25-0.5s, 0.5-1s, 1-2s, 2-4s, ...):
      // a handful of tries in 8s, not thousands.
      expect(proxy.requests - before).toBeGreaterThan(0);
      expect(proxy.requests - before).toBeLessThanOrEqual(3 * 7);
      await proxy.set("refuse");
      await new Promise((resolve) => setTimeout(resolve, 4_000));
      expect(await countLogs(byService(service))).toBe(0);
      expect(runners[0]?.isRunning).toBe(true);

      await proxy.set("pass");
      expect(await eventually(async () => (await countLogs(byService(service))) === 3_000, 60_000)).toBe(true);
    } finally {
      await proxy.stop();
    }
  }, 120_000);

  it("indexes each of 50,000 logs exactly once though the sink is SIGKILLed five times mid-stream", async () => {
    const service = `crash-${randomUUID().slice(0, 8)}`;
    const topic = await logTopic("log-crash", 4);
    const total = 50_000;
    await produceMany(topic, total, (i) => logEvent(service, i));
    const env = { TEST_LOG_TOPIC: topic.name, TEST_LOG_SINK: `log-sink-${service}`, SLUICE_INSTANCE_ID: service };
    const run = () => startSluiceRun(["--module", "test/support/log-sink-module.ts", `log-sink-${service}`], env);
    let indexed = 0;
    for (let kill = 1; kill <= 5; kill++) {
      const host = run();
      await host.ready();
      // Killed once it has written some more: mid-stream, with batches in flight and offsets not yet committed.
      const target = Math.min(total - 1, indexed + 4_000);
      await eventually(async () => {
        indexed = await countLogs(byService(service));
        return indexed >= target;
      }, 30_000);
      await host.kill();
    }
    const last = run();
    await last.ready();
    expect(await eventually(async () => (await countLogs(byService(service))) >= total, 90_000)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await last.stop();
    const ids = await eventIdsOf(service);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
  }, 240_000);

  it("ships sluice run's own logs when SLUICE_SHIP_LOGS_AS names it", async () => {
    const service = `sluice-${randomUUID().slice(0, 8)}`;
    runners.push(await startSinkRunner(logSink({ name: `log-sink-${service}` }), TOPICS));
    const topic = await logTopic("own-logs", 1);
    const host = startSluiceRun(["--module", "test/support/log-sink-module.ts", `log-sink-${service}-own`], {
      TEST_LOG_TOPIC: topic.name,
      TEST_LOG_SINK: `log-sink-${service}-own`,
      SLUICE_SHIP_LOGS_AS: service,
      SLUICE_LOG_LEVEL: "info",
    });
    await host.ready();
    await host.stop();
    const running = { bool: { filter: [byService(service), { match_phrase: { message: "sluice is running" } }] } };
    expect(await eventually(async () => (await countLogs(running)) === 1, 30_000)).toBe(true);
    // What it logged while stopping was flushed on the way out.
    expect(
      await eventually(
        async () =>
          (await countLogs({ bool: { filter: [byService(service), { match_phrase: { message: "draining" } }] } })) ===
          1,
        30_000,
      ),
    ).toBe(true);
  });

  it("keeps a service serving when Kafka is down: log lines are dropped and counted, never waited for", async () => {
    const shipper = new LogShipper({
      service: "no-kafka",
      kafka: librdkafka({ brokers: ["127.0.0.1:1"], clientId: "test-no-kafka", silent: true }),
      maxQueuedLines: 100,
    });
    const log = pino({ ...ecsFormat() }, shipper);
    const server = http.createServer((req, res) => {
      log.info({ "url.path": req.url }, "request served");
      res.end("ok");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const answers = await Promise.all(
        Array.from({ length: 300 }, (_, i) => fetch(`http://127.0.0.1:${port}/cart/${i}`).then((r) => r.text())),
      );
      expect(answers.every((a) => a === "ok")).toBe(true);
      const stats = await shipper.close(1_000);
      expect(stats.shipped).toBe(0);
      expect(stats.dropped).toBe(300);
      expect(stats.queued).toBe(0);
    } finally {
      server.close();
    }
  });
});
