/**
 * Consumer groups of the in-memory broker: members share their topics' partitions by range (so a member owns the
 * same partition numbers of topics with as many partitions), committed offsets are kept per group, and each
 * member's batches are handed over one at a time, when the broker delivers. A batch left unresolved is handed
 * over again from its first unresolved record, as the KafkaJS layer does; a paused partition waits for its resume.
 */
import type {
  BatchControl,
  GroupConsumer,
  GroupConsumerConfig,
  RecordBatch,
  TopicPartition,
  TopicPartitionOffset,
} from "../kafka/port.ts";
import { consumedRecord, type MemoryKafka } from "./memory-kafka.ts";

/** As many records as the runtime's librdkafka consumer hands over at most. */
const MAX_BATCH = 500;

interface Assigned extends TopicPartition {
  /** The next offset to hand over. */
  position: number;
  paused: boolean;
}

type EachBatch = (batch: RecordBatch, control: BatchControl) => Promise<void>;

export class MemoryGroup {
  private readonly kafka: MemoryKafka;
  private readonly members: MemoryConsumer[] = [];
  private readonly committed = new Map<string, number>();

  constructor(kafka: MemoryKafka) {
    this.kafka = kafka;
  }

  commit(offsets: TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) this.committed.set(`${topic}/${partition}`, Number(offset));
  }

  committedAt(topic: string, partition: number): number | undefined {
    return this.committed.get(`${topic}/${partition}`);
  }

  committedOffsets(topics: string[]): TopicPartitionOffset[] {
    return topics.flatMap((topic) =>
      this.kafka.topic(topic).partitions.map((_, partition) => ({
        topic,
        partition,
        offset: String(this.committedAt(topic, partition) ?? -1),
      })),
    );
  }

  async join(member: MemoryConsumer): Promise<void> {
    await this.rebalance(() => this.members.push(member));
  }

  async leave(member: MemoryConsumer): Promise<void> {
    await this.rebalance(() => this.members.splice(this.members.indexOf(member), 1));
  }

  async deliver(): Promise<boolean> {
    let delivered = false;
    for (const member of [...this.members]) if (await member.deliver()) delivered = true;
    return delivered;
  }

  /** Every member gives its partitions up, the membership changes, and the partitions are assigned anew. */
  private async rebalance(change: () => void): Promise<void> {
    for (const member of this.members) await member.revoke();
    change();
    const topics = [...new Set(this.members.flatMap((m) => m.topics))];
    for (const topic of topics) {
      const readers = this.members.filter((m) => m.topics.includes(topic));
      const count = this.kafka.topic(topic).partitions.length;
      const each = Math.floor(count / readers.length);
      const extra = count % readers.length;
      let next = 0;
      for (const [i, reader] of readers.entries()) {
        const share = each + (i < extra ? 1 : 0);
        for (let partition = next; partition < next + share; partition++) reader.pending.push({ topic, partition });
        next += share;
      }
    }
    for (const member of this.members) await member.assign();
  }
}

export class MemoryConsumer implements GroupConsumer {
  readonly group: MemoryGroup;
  readonly topics: string[] = [];
  /** Partitions the next assignment gives this member. */
  readonly pending: TopicPartition[] = [];
  private readonly kafka: MemoryKafka;
  private readonly config: GroupConsumerConfig;
  private assigned: Assigned[] = [];
  private eachBatch: EachBatch | undefined;
  /** Bumped on every revocation: a batch handed over before it is stale. */
  private generation = 0;

  constructor(kafka: MemoryKafka, group: MemoryGroup, config: GroupConsumerConfig) {
    this.kafka = kafka;
    this.group = group;
    this.config = config;
  }

  async connect(): Promise<void> {}

  async subscribe(topics: string[]): Promise<void> {
    this.topics.push(...topics);
  }

  async run(options: { partitionsAtOnce: number; eachBatch: EachBatch }): Promise<void> {
    this.eachBatch = options.eachBatch;
    await this.group.join(this);
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    this.group.commit(offsets);
  }

  async disconnect(): Promise<void> {
    if (!this.eachBatch) return;
    this.eachBatch = undefined;
    await this.group.leave(this);
  }

  async revoke(): Promise<void> {
    const revoked = this.assigned.map(({ topic, partition }) => ({ topic, partition }));
    this.assigned = [];
    this.generation++;
    if (revoked.length > 0) await this.config.onRebalance?.("revoked", revoked);
  }

  async assign(): Promise<void> {
    const partitions = this.pending.splice(0);
    if (partitions.length === 0) return;
    await this.config.onRebalance?.("assigned", partitions);
    this.assigned = partitions.map(({ topic, partition }) => ({
      topic,
      partition,
      position: this.group.committedAt(topic, partition) ?? this.startOf(topic, partition),
      paused: false,
    }));
  }

  /** Hands over the next batch of each assigned partition that has one; tells whether any was. */
  async deliver(): Promise<boolean> {
    let delivered = false;
    for (const state of [...this.assigned]) {
      if (!this.eachBatch || state.paused || !this.assigned.includes(state)) continue;
      const log = this.kafka.log(state.topic, state.partition);
      const found = log.read(state.position, this.config.readCommitted, MAX_BATCH);
      if (found.length === 0) continue;
      delivered = true;
      await this.handOver(state, {
        topic: state.topic,
        partition: state.partition,
        highWatermark: String(log.end),
        records: found.map((f) => consumedRecord(state.topic, state.partition, f)),
      });
    }
    return delivered;
  }

  private async handOver(state: Assigned, batch: RecordBatch): Promise<void> {
    const generation = this.generation;
    const first = Number(batch.records[0]?.offset);
    let resolved: number | undefined;
    await this.eachBatch?.(batch, {
      resolveOffset: (offset) => {
        resolved = Math.max(resolved ?? -1, Number(offset));
        if (this.config.autoCommit) {
          this.group.commit([{ topic: batch.topic, partition: batch.partition, offset: String(resolved + 1) }]);
        }
      },
      pause: () => {
        state.paused = true;
        return (from?: string) => {
          if (from !== undefined) state.position = Number(from);
          state.paused = false;
        };
      },
      isStale: () => this.generation !== generation,
    });
    // Read again from the first record not resolved (the whole batch if none was).
    state.position = resolved === undefined ? first : resolved + 1;
  }

  private startOf(topic: string, partition: number): number {
    return this.config.fromBeginning === false ? this.kafka.log(topic, partition).end : 0;
  }
}
