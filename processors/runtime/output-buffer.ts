/** Records a batch will write: handler outputs, retry and DLQ copies, scheduled records. Written at commit. */
import type { IHeaders } from "./kafka-client.ts";

export interface OutgoingMessage {
  key: string | Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export class OutputBuffer {
  private readonly byTopic = new Map<string, OutgoingMessage[]>();

  add(topic: string, message: OutgoingMessage): void {
    const messages = this.byTopic.get(topic) ?? [];
    messages.push(message);
    this.byTopic.set(topic, messages);
  }

  merge(other: OutputBuffer): void {
    for (const [topic, messages] of other.byTopic) for (const m of messages) this.add(topic, m);
  }

  get size(): number {
    let n = 0;
    for (const messages of this.byTopic.values()) n += messages.length;
    return n;
  }

  topicMessages(): { topic: string; messages: OutgoingMessage[] }[] {
    return [...this.byTopic].map(([topic, messages]) => ({ topic, messages }));
  }
}
