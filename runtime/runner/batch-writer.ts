/**
 * Writes a batch's records (outputs, retry and DLQ copies) with its offset: in one transaction with the offset
 * (exactly-once, committed in groups), or produced and acknowledged before the offset is stored (at-least-once:
 * the consumer commits stored offsets every second, and on revoke and close, so no commit is ever ahead of an
 * unwritten record).
 */
import type { GroupConsumer, Producer, TopicPartition } from "../kafka/port.ts";
import type { Metrics } from "../metrics.ts";
import type { OutputBuffer } from "../output-buffer.ts";
import { GroupCommit, type ProducerRenewal } from "./group-commit.ts";

export interface BatchWriter {
  /** Resolves once the records are written and `nextOffset` is committed with them (or may be). */
  write(partition: TopicPartition, nextOffset: string, out: OutputBuffer): Promise<void>;
  /** Waits for every write begun. */
  idle(): Promise<void>;
  /** After a COMMIT_UNKNOWN: resolves once a new producer has settled that transaction. */
  recovered(): Promise<void>;
  /** The runner stops: nothing waits any longer for a producer that cannot start. */
  closing(): void;
  close(): Promise<void>;
}

export function batchWriter(
  exactlyOnce: boolean,
  producer: Producer,
  consumer: GroupConsumer,
  metrics: Metrics,
  processor: string,
  renewal: ProducerRenewal,
): BatchWriter {
  const produced = (out: OutputBuffer) => {
    for (const [topic, count] of out.counts()) metrics.produced.inc({ processor, topic }, count);
  };
  if (exactlyOnce) {
    const transactionSeconds = metrics.transactionSeconds.labels(processor);
    const commits = new GroupCommit(producer, consumer, renewal, (seconds) => transactionSeconds.observe(seconds));
    return {
      async write(partition, nextOffset, out) {
        await commits.submit({ ...partition, offset: nextOffset }, out);
        produced(out);
      },
      idle: () => commits.idle(),
      recovered: () => commits.recovered(),
      closing: () => commits.closing(),
      close: () => commits.close(),
    };
  }
  return {
    async write(_partition, _nextOffset, out) {
      await producer.send(out.topicMessages());
      produced(out);
    },
    idle: async () => {},
    recovered: async () => {},
    closing: () => {},
    close: () => producer.disconnect(),
  };
}
