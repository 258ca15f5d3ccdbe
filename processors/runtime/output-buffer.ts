/** Records a batch will write: handler outputs, retry and DLQ copies, scheduled records. Written at commit. */
import type { IHeaders } from "./kafka-client.ts";

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export class OutputBuffer {
  /** In the order they were added; grouped by topic only when written (most buffers hold one record or none). */
  private readonly entries: { topic: string; message: OutgoingMessage }[] = [];

  add(topic: string, message: OutgoingMessage): void {
    this.entries.push({ topic, message });
  }

  merge(other: OutputBuffer): void {
    for (const entry of other.entries) this.entries.push(entry);
  }

  topicMessages(): { topic: string; messages: OutgoingMessage[] }[] {
    const byTopic = new Map<string, OutgoingMessage[]>();
    for (const { topic, message } of this.entries) {
      const list = byTopic.get(topic) ?? [];
      list.push(message);
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }
}
