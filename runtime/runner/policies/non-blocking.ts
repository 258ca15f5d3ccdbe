/** Non-blocking: a failed record moves through its group's retry tiers, then the DLQ; the partition keeps flowing. */
import type { OutputBuffer } from "../../output-buffer.ts";
import type { Route } from "../../route.ts";
import type { FailureCopies } from "../failure-copies.ts";
import { attemptAsRead, type ReadRecord } from "../read-record.ts";
import { DONE, type Outcome, type RetryPolicy } from "./retry-policy.ts";

export class NonBlocking implements RetryPolicy {
  readonly sequential = false;
  readonly serializesPartition = false;
  private readonly route: Route;
  private readonly copies: FailureCopies;

  constructor(route: Route, copies: FailureCopies) {
    this.route = route;
    this.copies = copies;
  }

  attempt(record: ReadRecord): number {
    return attemptAsRead(record);
  }

  admit(): boolean {
    return true;
  }

  succeeded(): void {}

  failed(record: ReadRecord, attempt: number, error: unknown, out: OutputBuffer): Outcome {
    this.copies.failed(record, attempt, error, this.route.tiers, out);
    return DONE;
  }

  async assigned(): Promise<void> {}

  revoked(): void {}
}
