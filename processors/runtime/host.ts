/**
 * One process running one or more processors and the delay router, with /metrics and /health on one port.
 * Stopping stops fetching, lets in-flight batches commit, and leaves the groups.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { hostname } from "node:os";
import { loadSchemaFiles } from "../../schemas/schema-files.ts";
import type { BusinessTopic } from "../../topics/topic.ts";
import { systemClock } from "./clock.ts";
import { DelayRouter } from "./delay-router.ts";
import { endpointsFromEnv } from "./endpoints.ts";
import { type Readiness, startHttpServer } from "./http-server.ts";
import { createKafka } from "./kafka-client.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { PostgresLedger } from "./ledger/postgres-ledger.ts";
import { RedisLedger } from "./ledger/redis-ledger.ts";
import { createLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import type { ProcessorDefinition } from "./processor.ts";
import { ProcessorRunner } from "./runner.ts";
import { AvroSerde } from "./serde/avro-serde.ts";
import { SchemaRegistryClient } from "./serde/registry-client.ts";

export interface HostOptions {
  port: number;
  /** The topic catalog the processors' inputs and outputs are declared in. */
  topics?: readonly BusinessTopic[];
  /** How long a partition's writes may fail before it is stalled (default SLUICE_STALL_AFTER_MS, else 1 minute). */
  stallAfterMs?: number;
}

export class ProcessorHost {
  private readonly runners: ProcessorRunner[] = [];
  private readonly ledgers = new Map<string, Ledger>();
  private router: DelayRouter | undefined;
  private server: Server | undefined;
  readonly metrics = new Metrics();
  readonly log = createLogger("sluice");

  async start(definitions: readonly ProcessorDefinition[], options: HostOptions): Promise<void> {
    const endpoints = endpointsFromEnv();
    const kafka = createKafka(`sluice-${randomUUID().slice(0, 8)}`);
    const serde = new AvroSerde(new SchemaRegistryClient());
    const schemas = loadSchemaFiles();
    const instanceId = process.env.SLUICE_INSTANCE_ID || hostname();
    const stallAfterMs = options.stallAfterMs ?? Number(process.env.SLUICE_STALL_AFTER_MS || 60_000);
    this.server = await startHttpServer(options.port, this.metrics, () => this.readiness());
    for (const definition of definitions) {
      const ledger = definition.ledger ? await this.ledger(definition.ledger, endpoints) : undefined;
      this.runners.push(
        new ProcessorRunner(definition, {
          kafka,
          serde,
          schemas,
          ledger,
          clock: systemClock,
          log: this.log,
          metrics: this.metrics,
          instanceId,
          topics: options.topics,
          stallAfterMs,
        }),
      );
    }
    this.router = new DelayRouter(kafka, { clock: systemClock, metrics: this.metrics, log: this.log, stallAfterMs });
    await Promise.all([...this.runners.map((r) => r.start()), this.router.start()]);
    this.log.info({ processors: definitions.map((d) => d.name), port: options.port }, "sluice is running");
  }

  /** Ready while every processor and the router run and no partition of theirs is stalled. */
  readiness(): Readiness {
    const running =
      this.runners.length > 0 && this.runners.every((r) => r.isRunning) && (this.router?.isRunning ?? false);
    const stalled = [...this.runners.flatMap((r) => r.stalled()), ...(this.router?.stalled() ?? [])];
    return { ready: running && stalled.length === 0, stalled };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.runners.map((r) => r.stop()), this.router?.stop()]);
    await Promise.allSettled([...this.ledgers.values()].map((l) => l.close()));
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async ledger(kind: "postgres" | "redis", endpoints: ReturnType<typeof endpointsFromEnv>): Promise<Ledger> {
    let ledger = this.ledgers.get(kind);
    if (!ledger) {
      ledger =
        kind === "postgres" ? await PostgresLedger.connect(endpoints.databaseUrl) : new RedisLedger(endpoints.redisUrl);
      this.ledgers.set(kind, ledger);
    }
    return ledger;
  }
}
