/**
 * One process running one or more processors and sinks and the delay router, with /metrics and /health on one port.
 * Stopping stops fetching, lets in-flight batches commit, and leaves the groups.
 */
import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import type { DestinationStream } from "pino";
import { SchemaRegistryClient } from "../schemas/registry-client.ts";
import type { SchemaFile } from "../schemas/schema-files.ts";
import { type BusinessTopic, topicByName } from "../topics/topic.ts";
import { CONFIG_TOPIC, ConfigSubscriber } from "./broadcast/config-subscriber.ts";
import { systemClock } from "./clock.ts";
import type { RuntimeConfig } from "./config.ts";
import { DelayRouter } from "./delay/delay-router.ts";
import { type Readiness, startHttpServer } from "./http-server.ts";
import { librdkafka } from "./kafka/librdkafka/index.ts";
import type { Ledger } from "./ledger/ledger.ts";
import { PostgresLedger } from "./ledger/postgres-ledger.ts";
import { RedisLedger } from "./ledger/redis-ledger.ts";
import { createLogger } from "./logger.ts";
import { Metrics } from "./metrics.ts";
import type { Processor } from "./processor.ts";
import { routesOf } from "./route.ts";
import { ProcessorRunner, type RuntimeDeps } from "./runner/runner.ts";
import { AvroSerde } from "./serde/avro-serde.ts";
import { SinkRunner } from "./sink/sink-runner.ts";
import { isSink, type Sink } from "./sink.ts";

export interface HostOptions {
  config: RuntimeConfig;
  /** The catalog the processors' inputs and outputs are declared in, and its schemas by full name. */
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
  /** SQL migration folders of the processors' own tables, applied with the ledger's. */
  migrations?: readonly string[];
  /** The port of /metrics and /health; the config's by default. */
  port?: number;
  /** Where the host's logs go besides stdout (a log shipper, so they are searchable with the others). */
  logTo?: DestinationStream;
}

export class ProcessorHost {
  private readonly runners: (ProcessorRunner | SinkRunner)[] = [];
  private readonly ledgers = new Map<string, Ledger>();
  private router: DelayRouter | undefined;
  private subscriber: ConfigSubscriber | undefined;
  private server: Server | undefined;
  readonly metrics = new Metrics();
  private logger: ReturnType<typeof createLogger> | undefined;

  get log() {
    this.logger ??= createLogger("sluice", "info");
    return this.logger;
  }

  async start(definitions: readonly (Processor | Sink)[], options: HostOptions): Promise<void> {
    const { config, topics, schemas } = options;
    routesOf(definitions, topics); // every input and output declared, no two processors in one group's place
    this.logger = createLogger("sluice", config.logLevel, options.logTo);
    // Where it connects, as configured: the logger takes any credential out of the line.
    this.log.info(
      {
        kafka: config.kafkaBrokers.join(","),
        registry: config.schemaRegistryUrl,
        database: config.databaseUrl,
        redis: config.redisUrl,
        instanceId: config.instanceId,
      },
      "starting",
    );
    const kafka = librdkafka({ brokers: config.kafkaBrokers, clientId: `sluice-${randomUUID().slice(0, 8)}` });
    const serde = new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl));
    this.server = await startHttpServer(
      { host: config.httpHost, port: options.port ?? config.httpPort },
      this.metrics,
      () => this.readiness(),
    );
    const deps: RuntimeDeps = {
      kafka,
      serde,
      topics,
      schemas,
      clock: systemClock,
      log: this.log,
      metrics: this.metrics,
      instanceId: config.instanceId,
      maxPollIntervalMs: config.maxPollIntervalMs,
      sessionTimeoutMs: config.sessionTimeoutMs,
      stallAfterMs: config.stallAfterMs,
      outageMaxWaitMs: config.outageMaxWaitMs,
      config: { get: (key) => this.subscriber?.get(key) ?? undefined },
    };
    if (topicByName(CONFIG_TOPIC, topics)) {
      // Every node holds all the configuration before it reports ready, and follows its changes.
      this.subscriber = new ConfigSubscriber({ kafka, serde, log: this.log, redisUrl: config.redisUrl });
      await this.subscriber.start();
      this.subscriber.onChange(({ key, version, via }) =>
        this.log.info({ "config.key": key, "config.version": String(version), via }, "config changed"),
      );
    }
    for (const definition of definitions) {
      if (isSink(definition)) {
        this.runners.push(new SinkRunner(definition, deps));
        continue;
      }
      const ledger = definition.ledger ? await this.ledger(definition.ledger, config, options.migrations) : undefined;
      this.runners.push(new ProcessorRunner(definition, { ...deps, ledger }));
    }
    this.router = new DelayRouter(deps);
    await Promise.all([...this.runners.map((r) => r.start()), this.router.start()]);
    this.log.info({ processors: definitions.map((d) => d.name) }, "sluice is running");
  }

  /** Ready while every processor, sink and the router run and no partition of theirs is stalled. */
  readiness(): Readiness {
    const running =
      this.runners.length > 0 && this.runners.every((r) => r.isRunning) && (this.router?.isRunning ?? false);
    const stalled = [...this.runners.flatMap((r) => r.stalled()), ...(this.router?.stalled() ?? [])];
    return { ready: running && stalled.length === 0, stalled };
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.runners.map((r) => r.stop()), this.router?.stop(), this.subscriber?.stop()]);
    await Promise.allSettled([...this.ledgers.values()].map((l) => l.close()));
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve(undefined)));
  }

  private async ledger(
    kind: "postgres" | "redis",
    config: RuntimeConfig,
    migrations: readonly string[] = [],
  ): Promise<Ledger> {
    let ledger = this.ledgers.get(kind);
    if (!ledger) {
      ledger =
        kind === "postgres"
          ? await PostgresLedger.connect(config.databaseUrl, migrations)
          : new RedisLedger(config.redisUrl);
      this.ledgers.set(kind, ledger);
    }
    return ledger;
  }
}
