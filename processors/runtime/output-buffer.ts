/** Records a batch will write: handler outputs, retry and DLQ copies, scheduled records. Written at commit. */
import { type ClientMessage, clientMessage, type OutgoingMessage } from "./kafka-client.ts";

export class OutputBuffer {
  /** In the order they were added; grouped by topic only when written (most buffers hold one record or none). */
  private readonly entries: { topic: string; message: OutgoingMessage }[] = [];

  add(topic: string, message: OutgoingMessage): void {
    this.entries.push({ topic, message });
  }

  merge(other: OutputBuffer): void {
    for (const entry of other.entries) this.entries.push(entry);
  }

  /** The records by topic, in the client's form. */
  topicMessages(): { topic: string; messages: ClientMessage[] }[] {
    const byTopic = new Map<string, ClientMessage[]>();
    for (const { topic, message } of this.entries) {
      const list = byTopic.get(topic) ?? [];
      list.push(clientMessage(message));
      byTopic.set(topic, list);
    }
    return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
  }
}
