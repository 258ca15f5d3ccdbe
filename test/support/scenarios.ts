/**
 * Scenarios that run both on the deterministic driver (simulated time, in-memory Kafka) and on the real broker
 * (real time), and must give the same outcome on both: the driver must not drift from Kafka. Each scenario
 * declares its topics and processors under a prefix, drives them through a Harness, and reduces what came out
 * to plain lines that do not depend on where it ran.
 */
import {
  BROKER_DEFAULT_MAX_MESSAGE_BYTES,
  HEADER,
  type Processor,
  type RecordHeaders,
  RetryableError,
} from "../../runtime/index.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { stateEvent as event, type StateEvent, states, testTopicSpec } from "./topics.ts";

/** What a scenario sees of a record. */
export interface Observed {
  key: string | null;
  /** The decoded value; undefined for a record that is not a value of its topic's schema. */
  value: StateEvent | undefined;
  headers: Record<string, string>;
  timestamp: number;
}

export interface Harness {
  /** Produces values to a topic, keyed by orderId, with the standard headers. */
  pipe(topic: string, events: StateEvent[]): Promise<void>;
  /** Produces bytes as another producer would. */
  pipeRaw(topic: string, record: { key: string; value: Buffer; headers: RecordHeaders }): Promise<void>;
  /** Lets `ms` pass: simulated on the driver, waited out on the broker. */
  pass(ms: number): Promise<void>;
  /** What a read_committed consumer sees of `topic`: on the broker, once `count` records are there. */
  read(topic: string, count: number): Promise<Observed[]>;
  setMaxMessageBytes(topic: string, bytes: number): Promise<void>;
}

export interface Scenario {
  name: string;
  topics(prefix: string): BusinessTopic[];
  processors(prefix: string): Processor[];
  /** Drives the scenario and reduces what came out to lines; topic names appear as `<prefix>`-free names. */
  run(harness: Harness, prefix: string): Promise<Record<string, string[]>>;
  expected: Record<string, string[]>;
}

const { defineProcessor } = states;
const topic = (prefix: string, name: string, partitions = 3) => testTopicSpec(`${prefix}.${name}`, { partitions });
/** Attempts per record, counted by the handler (the real broker's scenario and the driver's each get their own). */
const attempts = new Map<string, number>();
const attempt = (key: string) => {
  const n = (attempts.get(key) ?? 0) + 1;
  attempts.set(key, n);
  return n;
};
const sorted = (lines: string[]) => [...lines].sort();

export const SCENARIOS: Scenario[] = [
  {
    name: "retries: a flaky record succeeds on a tier, a doomed one lands in the DLQ with its history",
    topics: (p) => [topic(p, "in"), topic(p, "out")],
    processors: (p) => [
      defineProcessor({
        name: "retrier",
        group: `${p}-retrier`,
        input: `${p}.in`,
        outputs: [`${p}.out`],
        retryTiers: ["1s", "2s"],
        async handler(record, ctx) {
          const { orderId } = record.value;
          attempt(`${p}/${orderId}`);
          if (orderId === "o-doomed" || (orderId === "o-flaky" && record.attempt < 3)) {
            throw new RetryableError(`${orderId} fails on attempt ${record.attempt}`);
          }
          await ctx.send(`${p}.out`, orderId, { ...record.value, state: "PAID" });
        },
      }),
    ],
    async run(h, p) {
      await h.pipe(`${p}.in`, [event("o-ok", "CREATED"), event("o-flaky", "CREATED"), event("o-doomed", "CREATED")]);
      await h.pass(4_000);
      const out = await h.read(`${p}.out`, 2);
      const [dead] = await h.read(`${p}.in.${p}-retrier.dlq`, 1);
      const history = DESIGN_HEADERS.map((name) => `${name}=${dead?.headers[name] === undefined ? "missing" : "set"}`);
      return {
        out: sorted(out.map((r) => `${r.key} ${r.value?.state}`)),
        dlq: [
          `${dead?.key} attempt=${dead?.headers.attempt} error-class=${dead?.headers["error-class"]} ` +
            `original-topic=${dead?.headers["original-topic"]?.replace(p, "<p>")}`,
          history.join(" "),
        ],
        handled: sorted(["o-ok", "o-flaky", "o-doomed"].map((id) => `${id} ${attempts.get(`${p}/${id}`)}x`)),
      };
    },
    expected: {
      out: ["o-flaky PAID", "o-ok PAID"],
      dlq: [
        "o-doomed attempt=3 error-class=RETRYABLE original-topic=<p>.in",
        "event-id=set trace-id=set produced-at=set attempt=set due-at=set original-topic=set original-partition=set " +
          "original-offset=set error-class=set error-message=set first-failed-at=set",
      ],
      handled: ["o-doomed 3x", "o-flaky 3x", "o-ok 1x"],
    },
  },
  {
    name: "delays: scheduled records arrive on their target when due, never before",
    topics: (p) => [topic(p, "source"), topic(p, "target")],
    processors: (p) => [
      defineProcessor({
        name: "scheduler",
        group: `${p}-scheduler`,
        input: `${p}.source`,
        outputs: [`${p}.target`],
        delivery: "exactly-once",
        async handler(record, ctx) {
          for (const delay of [1_500, 12_000]) {
            const value = { ...record.value, orderId: `${record.value.orderId}+${delay}` };
            await ctx.schedule(`${p}.target`, value.orderId, value, { delay });
          }
        },
      }),
    ],
    async run(h, p) {
      await h.pipe(`${p}.source`, [event("o-1", "CREATED")]);
      await h.pass(15_000);
      const delivered = await h.read(`${p}.target`, 2);
      return {
        // A record's timestamp is when it was delivered: never before its due-at.
        delivered: sorted(
          delivered.map((r) => `${r.key} ${r.timestamp >= Number(r.headers[HEADER.dueAt]) ? "on time" : "early"}`),
        ),
      };
    },
    expected: { delivered: ["o-1+12000 on time", "o-1+1500 on time"] },
  },
  {
    name: "key order: a failing order's later states wait behind it in the tiers; other orders flow",
    topics: (p) => [topic(p, "in", 1), topic(p, "out", 1)],
    processors: (p) => [
      defineProcessor({
        name: "ordered",
        group: `${p}-ordered`,
        input: `${p}.in`,
        outputs: [`${p}.out`],
        retry: "key-ordered",
        retryTiers: ["1s", "3s"],
        async handler(record, ctx) {
          const { orderId, state } = record.value;
          if (orderId === "o-slow" && state === "CREATED" && record.attempt < 3) {
            throw new RetryableError(`${orderId} ${state} fails on attempt ${record.attempt}`);
          }
          await ctx.send(`${p}.out`, orderId, record.value);
        },
      }),
    ],
    async run(h, p) {
      await h.pipe(`${p}.in`, [
        event("o-slow", "CREATED"),
        event("o-fast", "CREATED"),
        event("o-slow", "PAID"),
        event("o-fast", "PAID"),
        event("o-slow", "SHIPPED"),
      ]);
      await h.pass(6_000);
      const out = await h.read(`${p}.out`, 5);
      const statesOf = (orderId: string) => out.filter((r) => r.key === orderId).map((r) => r.value?.state ?? "?");
      return { "o-slow": statesOf("o-slow"), "o-fast": statesOf("o-fast") };
    },
    expected: { "o-slow": ["CREATED", "PAID", "SHIPPED"], "o-fast": ["CREATED", "PAID"] },
  },
  {
    name: "exactly-once abort: a transaction the DLQ refuses leaves nothing visible; it commits once it can",
    topics: (p) => [topic(p, "in", 1), topic(p, "out", 1)],
    processors: (p) => [
      defineProcessor({
        name: "relay",
        group: `${p}-relay`,
        input: `${p}.in`,
        outputs: [`${p}.out`],
        delivery: "exactly-once",
        keyConcurrency: 1,
        async handler(record, ctx) {
          await ctx.send(`${p}.out`, record.key, record.value);
        },
      }),
    ],
    async run(h, p) {
      const dlq = `${p}.in.${p}-relay.dlq`;
      await h.setMaxMessageBytes(dlq, 100); // smaller than any copy: every transaction with a DLQ copy aborts
      // The poison record first: the transaction that carries its DLQ copy aborts, and its partition waits.
      await h.pipeRaw(`${p}.in`, { key: "poison", value: Buffer.from("not avro"), headers: eventHeaders() });
      await h.pipe(`${p}.in`, [event("o-1", "CREATED"), event("o-2", "CREATED")]);
      await h.pass(2_000);
      const refused = await h.read(`${p}.out`, 0);
      await h.setMaxMessageBytes(dlq, BROKER_DEFAULT_MAX_MESSAGE_BYTES);
      await h.pass(5_000);
      const out = await h.read(`${p}.out`, 2);
      const dead = await h.read(dlq, 1);
      return {
        "while the DLQ refuses": refused.map((r) => `${r.key}`),
        "once it accepts": out.map((r) => `${r.key}`),
        dlq: dead.map((r) => `${r.key} ${r.headers["error-class"]}`),
      };
    },
    expected: { "while the DLQ refuses": [], "once it accepts": ["o-1", "o-2"], dlq: ["poison BAD_MAGIC_BYTE"] },
  },
];

/** The headers DESIGN.md lists for records on a retry, delay or DLQ topic, beside every record's own. */
const DESIGN_HEADERS = [
  HEADER.eventId,
  HEADER.traceId,
  HEADER.producedAt,
  HEADER.attempt,
  HEADER.dueAt,
  HEADER.originalTopic,
  HEADER.originalPartition,
  HEADER.originalOffset,
  HEADER.errorClass,
  HEADER.errorMessage,
  HEADER.firstFailedAt,
];

function eventHeaders(): RecordHeaders {
  return [[HEADER.eventId, Buffer.from(`poison-${Math.random()}`)]];
}
