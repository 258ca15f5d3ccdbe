/** Non-blocking: a failed record moves through its group's retry tiers, then the DLQ; the partition keeps flowing. */
import type { OutputBuffer } from "../../output-buffer.ts";
import type { Route } from "../../route.ts";
import type { FailureCopies } from "../failure-copies.ts";
import { attemptOf } from "../failure-route.ts";
import type { ReadRecord } from "../read-record.ts";
import { DONE, type KeyMark, NO_MARK, type Outcome, type RetryPolicy } from "./retry-policy.ts";

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
    return record.tierIndex >= 0 ? attemptOf(record.headers) : 1;
  }

  admit(): boolean {
    return true;
  }

  succeeded(): void {}

  failed(record: ReadRecord, attempt: number, error: unknown, out: OutputBuffer): Outcome {
    this.copies.failed(record, attempt, error, this.route.tiers, out);
    return DONE;
  }

  mark(): KeyMark {
    return NO_MARK;
  }

  restore(): void {}

  async assigned(): Promise<void> {}

  revoked(): void {}
}
