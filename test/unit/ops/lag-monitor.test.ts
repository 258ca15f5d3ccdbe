/**
 * The lag monitor on the in-memory Kafka: per-group figures from the broker's offsets, throughput as the slope of
 * what the group consumed, and the log events that feed the consumer-lag and dlq-growth alert rules.
 */
import { describe, expect, it } from "vitest";
import { defaultRules } from "../../../connectors/alerting/default-rules.ts";
import type { LogProducer } from "../../../connectors/log-shipper/log-producer.ts";
import { LagMonitor } from "../../../ops/lag/lag-monitor.ts";
import { routeOf } from "../../../runtime/index.ts";
import { MemoryKafka, SimulatedClock } from "../../../runtime/testing/index.ts";
import type { LogEvent } from "../../../schemas/types.generated.ts";
import { states } from "../../support/topics.ts";

const T0 = Date.UTC(2026, 10, 27, 12);

function setup() {
  const clock = new SimulatedClock(T0);
  const kafka = new MemoryKafka(clock);
  const route = routeOf(states.defineProcessor({ name: "shipping", input: "orders", handler: async () => {} }));
  for (const name of [route.input, route.dlqTopic])
    kafka.createTopic({ name, partitions: 1, replicationFactor: 1, configs: {} });
  const sent: LogEvent[] = [];
  const logs = { events: { send: async (_topic: string, events: LogEvent[]) => void sent.push(...events) } };
  const monitor = new LagMonitor({
    kafka,
    routes: [route],
    everyMs: 5_000,
    onError: (error) => {
      throw error;
    },
    alerts: { logs: logs as unknown as LogProducer, lagSeconds: 60 },
  });
  const produce = async (topic: string, n: number) => {
    const producer = kafka.producer();
    const messages = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: Buffer.from("v"), headers: [] }));
    await producer.send([{ topic, messages }]);
  };
  const commit = (offset: number) =>
    kafka
      .consumer({ groupId: route.group, autoCommit: false, readCommitted: true })
      .group.commit([{ topic: route.input, partition: 0, offset: String(offset) }]);
  return { clock, route, monitor, sent, produce, commit };
}

describe("lag monitor", () => {
  it("sums a group's lag from the broker, and its throughput is what it consumed between samples", async () => {
    const { clock, monitor, produce, commit } = setup();
    await produce("orders", 10);
    commit(4);
    clock.moveTo(clock.now() + 30_000);
    const first = (await monitor.sample(clock.now())).groups[0];
    expect(first).toMatchObject({ group: "shipping", lagRecords: 6, lagSeconds: 30, throughput: null, consumed: 4 });
    commit(10);
    clock.moveTo(clock.now() + 2_000);
    const second = (await monitor.sample(clock.now())).groups[0];
    expect(second).toMatchObject({ lagRecords: 0, lagSeconds: 0, throughput: 3, consumed: 10 }); // 6 records in 2 s
    expect(monitor.samples()).toHaveLength(2);
  });

  it("writes a WARN event for a group behind the threshold and for a growing DLQ, which the alert rules match", async () => {
    const { clock, route, monitor, sent, produce } = setup();
    await produce("orders", 3);
    clock.moveTo(clock.now() + 30_000);
    await monitor.sample(clock.now());
    expect(sent).toEqual([]); // 30 s behind: under the 60 s threshold, and no DLQ yet
    await produce(route.dlqTopic, 2);
    clock.moveTo(clock.now() + 40_000);
    await monitor.sample(clock.now());
    expect(sent.map((e) => [e.level, e.fields.alert, e.fields.group])).toEqual([
      ["WARN", "consumer-lag", "shipping"],
      ["WARN", "dlq-growth", "shipping"],
    ]);
    expect(sent[1]?.fields).toMatchObject({ added: "2", depth: "2" });
    const rules = defaultRules();
    for (const event of sent) {
      const matching = rules.filter((r) => r.match(event)).map((r) => [r.name, r.key?.(event)]);
      expect(matching).toEqual([[event.fields.alert, "shipping"]]);
    }
  });
});
