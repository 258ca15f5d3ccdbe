/**
 * A handler call, bounded: a handler that has not finished after its timeout fails its record as a retryable
 * HANDLER_TIMEOUT, its `ctx.signal` aborts, and what it writes afterwards is dropped. A member must poll within
 * max.poll.interval.ms or its group evicts it, so a handler may take at most a quarter of it.
 */
import { toMs } from "../../topics/duration.ts";
import { ConfigError } from "../../topics/errors.ts";
import type { Clock } from "../clock.ts";
import { RetryableError } from "../failure.ts";
import type { OutputBuffer } from "../output-buffer.ts";
import type { InputRecord, Processor } from "../processor.ts";
import { type ContextEnv, RecordContext } from "./record-context.ts";

const MAX_HANDLER_TIMEOUT_MS = 60_000;
const LONG_RUNNING_TIMEOUT_MS = 3_600_000;

/**
 * A definition's handler timeout: its own, or a quarter of max.poll.interval.ms up to a minute. A long-running
 * processor's runs outside the poll loop, so max.poll.interval.ms does not bound it (default: an hour).
 */
export function handlerTimeoutMs(definition: Processor, maxPollIntervalMs: number): number {
  if (definition.longRunning) {
    return definition.handlerTimeout ? toMs(definition.handlerTimeout) : LONG_RUNNING_TIMEOUT_MS;
  }
  const timeoutMs = definition.handlerTimeout
    ? toMs(definition.handlerTimeout)
    : Math.min(MAX_HANDLER_TIMEOUT_MS, maxPollIntervalMs / 4);
  if (timeoutMs > maxPollIntervalMs / 4) {
    throw new ConfigError(
      `processor ${definition.name}: handlerTimeout ${definition.handlerTimeout} is more than a quarter of ` +
        `max.poll.interval.ms (${maxPollIntervalMs} ms); raise SLUICE_MAX_POLL_INTERVAL_MS or shorten the timeout`,
    );
  }
  return timeoutMs;
}

export class HandlerCall {
  private readonly definition: Processor;
  private readonly env: ContextEnv;
  private readonly clock: Clock;
  private readonly timeoutMs: number;

  constructor(definition: Processor, env: ContextEnv, timeoutMs: number) {
    this.definition = definition;
    this.env = env;
    this.clock = env.clock;
    this.timeoutMs = timeoutMs;
  }

  /**
   * Runs the handler for `record`; its outputs go to `out` if it finishes in time. `cancel` (a long-running job's
   * partition revoked) aborts it as its timeout does.
   */
  run(record: InputRecord<unknown>, out: OutputBuffer, cancel?: AbortSignal): Promise<void> {
    const ctx = new RecordContext(this.env, record, out);
    const handled = this.definition.handler(record, ctx);
    return new Promise((resolve, reject) => {
      const stop = (error: Error) => {
        ctx.abort(error);
        reject(error);
      };
      const timer = this.clock.after(this.timeoutMs, () =>
        stop(new RetryableError(`handler did not finish within ${this.timeoutMs} ms`, "HANDLER_TIMEOUT")),
      );
      const cancelled = () => stop(new RetryableError("the job's partition was revoked", "REVOKED"));
      cancel?.addEventListener("abort", cancelled, { once: true });
      const settle = () => {
        timer.cancel();
        cancel?.removeEventListener("abort", cancelled);
      };
      handled.then(
        () => {
          settle();
          resolve();
        },
        (error: unknown) => {
          settle();
          reject(error);
        },
      );
    });
  }
}
