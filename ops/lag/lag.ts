/**
 * Consumer lag from the broker's offsets (`sluice lag`): for each group, each partition of its input and retry
 * tiers, the records between its committed offset and the end, and how old the oldest of them is: now minus its
 * timestamp on the input, minus its due time on a tier (a record not due yet is no delay). The DLQ's depth and the
 * age of its oldest record too. Read from the broker, not from the consumer, so a stalled or stopped consumer's lag
 * is right: it grows with the wall clock.
 */
import {
  type ConsumedRecord,
  HEADER,
  type KafkaPort,
  type PartitionStart,
  type Route,
  textHeaders,
} from "../../runtime/index.ts";

export interface PartitionLag {
  group: string;
  topic: string;
  kind: "input" | "tier" | "dlq";
  partition: number;
  /** Records not consumed yet (for the DLQ: records in it). */
  records: number;
  /** Age of the oldest of them, in seconds (0 when there are none, or a tier's head is not due yet). */
  seconds: number;
  /** The partition's end offset: less `records`, how far the group has consumed (for the DLQ: its depth). */
  end: number;
}

/** The first record at or after each start (none where a partition has nothing there). */
async function heads(kafka: KafkaPort, starts: PartitionStart[]): Promise<Map<string, ConsumedRecord>> {
  const found = new Map<string, ConsumedRecord>();
  if (starts.length === 0) return found;
  const all = Promise.withResolvers<void>();
  const follower = kafka.follow(starts, (record) => {
    const id = `${record.topic}/${record.partition}`;
    if (!found.has(id)) found.set(id, record);
    if (found.size === starts.length) all.resolve();
  });
  await Promise.race([follower.caughtUp, all.promise]);
  await follower.close();
  return found;
}

export async function groupLag(kafka: KafkaPort, routes: readonly Route[], now = Date.now()): Promise<PartitionLag[]> {
  const admin = kafka.admin();
  await admin.connect();
  const lags: PartitionLag[] = [];
  try {
    const existing = new Set(await admin.listTopics());
    for (const route of routes) {
      const consumed = [route.input, ...route.tierTopics].filter((t) => existing.has(t));
      const committed = new Map(
        (await admin.committedOffsets(route.group, consumed)).map((c) => [
          `${c.topic}/${c.partition}`,
          BigInt(c.offset),
        ]),
      );
      const pending: (Omit<PartitionLag, "seconds"> & { from: bigint })[] = [];
      for (const topic of consumed) {
        for (const { partition, low, high } of await admin.topicOffsets(topic)) {
          const at = committed.get(`${topic}/${partition}`) ?? -1n;
          const from = at < BigInt(low) ? BigInt(low) : at; // none committed yet: from the beginning
          const kind = topic === route.input ? "input" : "tier";
          const records = Number(BigInt(high) - from);
          pending.push({ group: route.group, topic, kind, partition, records, end: Number(high), from });
        }
      }
      if (existing.has(route.dlqTopic)) {
        for (const { partition, low, high } of await admin.topicOffsets(route.dlqTopic)) {
          const records = Number(BigInt(high) - BigInt(low));
          pending.push({
            group: route.group,
            topic: route.dlqTopic,
            kind: "dlq",
            partition,
            records,
            end: Number(high),
            from: BigInt(low),
          });
        }
      }
      const behind = pending.filter((p) => p.records > 0);
      const first = await heads(
        kafka,
        behind.map((p) => ({ topic: p.topic, partition: p.partition, offset: String(p.from) })),
      );
      for (const { from: _, ...p } of pending) {
        const head = first.get(`${p.topic}/${p.partition}`);
        // No record there: what the offsets count are transaction markers (exactly-once writers'), nothing waits.
        lags.push({ ...p, records: head ? p.records : 0, seconds: head ? age(head, p.kind, now) : 0 });
      }
    }
  } finally {
    await admin.disconnect();
  }
  return lags;
}

function age(head: ConsumedRecord, kind: PartitionLag["kind"], now: number): number {
  const since = kind === "tier" ? Number(textHeaders(head.headers)[HEADER.dueAt]) || head.timestamp : head.timestamp;
  return Math.max(0, (now - since) / 1000);
}
