/**
 * `sluice serve orders|users|flashsale|videos [--port N]`: runs a reference service over HTTP until SIGTERM. The
 * order, user and video services write their events through the transactional outbox (`sluice outbox relay`
 * publishes them);
 * the flash-sale gateway admits purchases in Redis and produces them to Kafka itself. SLUICE_HTTP_HOST sets the
 * address it listens on (default 127.0.0.1; 0.0.0.0 in a container).
 */
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "pino";
import { Outbox } from "../../../connectors/outbox-relay/outbox.ts";
import { OUTBOX_MIGRATIONS } from "../../../connectors/outbox-relay/outbox-relay.ts";
import { SaleStore } from "../../../processors/flashsale/sale-store.ts";
import { MIGRATIONS } from "../../../processors/registry.ts";
import { domainSettings } from "../../../processors/settings.ts";
import { mediaStore } from "../../../processors/videos/media-store.ts";
import {
  AvroSerde,
  createLogger,
  integerVar,
  librdkafka,
  Metrics,
  migrate,
  newPool,
  type RuntimeConfig,
  runtimeConfig,
} from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { flashSaleGateway, PURCHASES_TOPIC } from "../../../services/flashsale/flashsale-gateway.ts";
import { ORDER_SERVICE_MIGRATIONS, orderService } from "../../../services/orders/order-service.ts";
import { USER_SERVICE_MIGRATIONS, userService } from "../../../services/users/user-service.ts";
import { videoService } from "../../../services/videos/video-service.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { UsageError } from "../../../topics/errors.ts";
import { parse, positiveInteger, stopSignal } from "../args.ts";

interface ServeDeps {
  config: RuntimeConfig;
  db: pg.Pool;
  log: Logger;
  metrics: Metrics;
  serde: AvroSerde;
}

type Start = (deps: ServeDeps) => Promise<FastifyInstance>;

const outboxOf = ({ config, serde }: ServeDeps) =>
  new Outbox({ serde, topics: TOPICS, schemas: loadSchemaFiles(config.schemasDir) });

const SERVICES: Record<string, { start: Start; migrations: string[]; port: number }> = {
  // The order service reads the order-state processor's table beside its own.
  orders: {
    start: async (deps) => orderService({ ...deps, outbox: outboxOf(deps) }),
    migrations: [OUTBOX_MIGRATIONS, MIGRATIONS, ORDER_SERVICE_MIGRATIONS],
    port: 9410,
  },
  users: {
    start: async (deps) => userService({ ...deps, outbox: outboxOf(deps) }),
    migrations: [OUTBOX_MIGRATIONS, MIGRATIONS, USER_SERVICE_MIGRATIONS],
    port: 9420,
  },
  flashsale: { start: startFlashSaleGateway, migrations: [MIGRATIONS], port: 9430 },
  videos: {
    start: async (deps) =>
      videoService({ ...deps, outbox: outboxOf(deps), store: mediaStore(), maxBytes: domainSettings().videoMaxBytes }),
    migrations: [OUTBOX_MIGRATIONS, MIGRATIONS],
    port: 9440,
  },
};

async function startFlashSaleGateway(deps: ServeDeps): Promise<FastifyInstance> {
  const { config } = deps;
  const rate = integerVar(process.env, "SLUICE_FLASHSALE_RATE", 5_000, { min: 1 });
  const burst = integerVar(process.env, "SLUICE_FLASHSALE_BURST", rate, { min: 1 });
  const store = new SaleStore(config.redisUrl, { failFast: true });
  await store.connect();
  const producer = librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-flashsale" }).producer({
    lingerMs: 2,
    deliveryTimeoutMs: 10_000,
  });
  await producer.connect();
  const schema = loadSchemaFiles(config.schemasDir).get(
    TOPICS.find((t) => t.name === PURCHASES_TOPIC)?.valueSchema ?? "",
  );
  if (!schema) throw new UsageError(`serve flashsale: no schema for ${PURCHASES_TOPIC}`);
  const app = flashSaleGateway({ ...deps, store, producer, schema, rate, burst });
  app.addHook("onClose", async () => {
    await producer.disconnect();
    await store.close();
  });
  return app;
}

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("serve", args, { port: { type: "string" } });
  const [name, extra] = positionals;
  const service = SERVICES[name ?? ""];
  if (!service || extra !== undefined)
    throw new UsageError("usage: sluice serve orders|users|flashsale|videos [--port N]");
  const port = positiveInteger("serve", "--port", values.port) ?? service.port;
  const config = runtimeConfig();
  const log = createLogger(`sluice-${name}-service`, config.logLevel);
  const db = newPool({ connectionString: config.databaseUrl, max: 10 });
  await migrate(db, service.migrations);
  const serde = new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl));
  const app = await service.start({ config, db, log, metrics: new Metrics(), serde });
  const signal = stopSignal();
  await app.listen({ host: runtimeConfig().httpHost, port });
  log.info({ signal: await signal }, `${name} service stopping`);
  await app.close(); // answers the requests in progress first
  await db.end();
  return 0;
}
