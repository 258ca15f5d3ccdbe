/** Records a batch will write: handler outputs, retry and DLQ copies, scheduled records. Written at commit. */
import type { OutgoingMessage, TopicMessages } from "./kafka/port.ts";

export class OutputBuffer {
  /** In the order they were added; grouped by topic only when written (most buffers hold one record or none). */
  private readonly entries: { topic: string; message: OutgoingMessage }[] = [];

  add(topic: string, message: OutgoingMessage): void {
    this.entries.push({ topic, message });
  }

  merge(other: OutputBuffer): void {
    for (const entry of other.entries) this.entries.push(entry);
  }

  /** The records by topic, each topic's in the order they were added. */
  topicMessages(): TopicMessages[] {
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const { topic, message } of this.entries) {
      const list = byTopic.get(topic) ?? [];
      list.push(message);
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }

  /** How many records each topic gets. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { topic } of this.entries) counts.set(topic, (counts.get(topic) ?? 0) + 1);
    return counts;
  }
}
