/**
 * One record's way through a processor: the retry policy admits it (or parks it behind its key), it is decoded,
 * its handler runs within its timeout, and a failure goes where the policy says, unless it is a dependency's outage
 * (`isOutage`): then the record waits in place, its partition paused, whatever the policy, up to
 * SLUICE_OUTAGE_MAX_WAIT, and then to the DLQ. Built once per processor.
 */
import type { Logger } from "pino";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { topicByName } from "../../topics/topic.ts";
import { classify, isOutage, PermanentError } from "../failure.ts";
import type { Metrics } from "../metrics.ts";
import { OutputBuffer } from "../output-buffer.ts";
import type { ConfigView, Processor } from "../processor.ts";
import type { Route } from "../route.ts";
import type { TopicLimits } from "../topic-limits.ts";
import { HandlerCall } from "./handler-call.ts";
import { DONE, type Outcome, type RetryPolicy } from "./policies/retry-policy.ts";
import { type ReadRecord, replayedForAnother } from "./read-record.ts";
import { DEFAULT_MAX_VALUE_BYTES, RecordDecoder } from "./record-decoder.ts";
import type { RuntimeDeps } from "./runner.ts";

/** ctx.config where the node follows no broadcast configuration. */
const NO_CONFIG: ConfigView = { get: () => undefined };

export class RecordPipeline {
  private readonly group: string;
  /** A dependency is out of reach: when to try the record again. */
  private readonly onOutage: (record: ReadRecord, error: unknown) => number | undefined;
  private readonly policy: RetryPolicy;
  private readonly decoder: RecordDecoder;
  private readonly handler: HandlerCall;
  private readonly handlerSeconds: ReturnType<Metrics["handlerSeconds"]["labels"]>;

  constructor(
    definition: Processor,
    route: Route,
    policy: RetryPolicy,
    deps: RuntimeDeps & {
      log: Logger;
      limits: TopicLimits;
      handlerTimeoutMs: number;
      /** When to try the record again; undefined once the partition has waited its longest. */
      onOutage: (record: ReadRecord, error: unknown) => number | undefined;
    },
  ) {
    const schemaOf = (topic: string): SchemaFile | undefined =>
      deps.schemas.get(topicByName(topic, deps.topics)?.valueSchema ?? "");
    const outputSchemas = new Map(route.outputs.map((topic) => [topic, schemaOf(topic)]));
    this.group = route.group;
    this.onOutage = deps.onOutage;
    this.policy = policy;
    this.decoder = new RecordDecoder(
      route,
      deps.serde,
      schemaOf(route.input)?.type,
      deps.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES,
    );
    this.handler = new HandlerCall(
      definition,
      {
        route,
        serde: deps.serde,
        clock: deps.clock,
        ledger: deps.ledger,
        config: deps.config ?? NO_CONFIG,
        log: deps.log,
        outputSchema: (topic) => outputSchemas.get(topic),
        fits: (topic, message) => deps.limits.fits(topic, message),
      },
      deps.handlerTimeoutMs,
    );
    this.handlerSeconds = deps.metrics.handlerSeconds.labels(route.name);
  }

  /**
   * Runs the record; what it writes (outputs, or its retry or DLQ copy) goes to `out`. `cancel` aborts the handler
   * (a long-running job whose partition was revoked: the runner then writes nothing of it).
   */
  async run(record: ReadRecord, out: OutputBuffer, cancel?: AbortSignal): Promise<Outcome> {
    if (replayedForAnother(record, this.group) || !this.policy.admit(record, out)) return DONE;
    const started = performance.now();
    const attempt = this.policy.attempt(record);
    try {
      const input = await this.decoder.decode(record, attempt);
      // A handler that runs out of time keeps writing into a buffer that is dropped.
      const recordOut = new OutputBuffer();
      await this.handler.run(input, recordOut, cancel);
      out.merge(recordOut);
      this.policy.succeeded(record);
      return DONE;
    } catch (error) {
      if (!isOutage(error) || cancel?.aborted) return this.policy.failed(record, attempt, error, out);
      const retryAt = this.onOutage(record, error);
      if (retryAt !== undefined) return { kind: "blocked", retryAt };
      // Waited the longest: to the DLQ, where a replay finds it once the cause is known.
      const { errorClass, errorMessage } = classify(error);
      const gaveUp = new PermanentError(`still failing after the longest wait: ${errorMessage}`, errorClass, {
        cause: error,
      });
      return this.policy.failed(record, attempt, gaveUp, out);
    } finally {
      this.handlerSeconds.observe((performance.now() - started) / 1000);
    }
  }
}
