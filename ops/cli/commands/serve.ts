/**
 * `sluice serve orders|users [--port N]`: runs a reference service over HTTP until SIGTERM, writing its events
 * through the transactional outbox (`sluice outbox relay` publishes them). SLUICE_HTTP_HOST sets the address it
 * listens on (default 127.0.0.1; 0.0.0.0 in a container).
 */
import type { FastifyInstance } from "fastify";
import pg from "pg";
import { Outbox } from "../../../connectors/outbox-relay/outbox.ts";
import { OUTBOX_MIGRATIONS } from "../../../connectors/outbox-relay/outbox-relay.ts";
import { MIGRATIONS } from "../../../processors/registry.ts";
import { AvroSerde, createLogger, Metrics, migrate, runtimeConfig, textVar } from "../../../runtime/index.ts";
import { SchemaRegistryClient } from "../../../schemas/registry-client.ts";
import { loadSchemaFiles } from "../../../schemas/schema-files.ts";
import { ORDER_SERVICE_MIGRATIONS, orderService } from "../../../services/orders/order-service.ts";
import { USER_SERVICE_MIGRATIONS, userService } from "../../../services/users/user-service.ts";
import { TOPICS } from "../../../topics/catalog.ts";
import { UsageError } from "../../../topics/errors.ts";
import { parse, positiveInteger, stopSignal } from "../args.ts";

type Build = typeof orderService;
const SERVICES: Record<string, { build: Build; migrations: string; port: number }> = {
  orders: { build: orderService, migrations: ORDER_SERVICE_MIGRATIONS, port: 9410 },
  users: { build: userService, migrations: USER_SERVICE_MIGRATIONS, port: 9420 },
};

export async function serveCommand(args: string[]): Promise<number> {
  const { values, positionals } = parse("serve", args, { port: { type: "string" } });
  const [name, extra] = positionals;
  const service = SERVICES[name ?? ""];
  if (!service || extra !== undefined) throw new UsageError("usage: sluice serve orders|users [--port N]");
  const port = positiveInteger("serve", "--port", values.port) ?? service.port;
  const config = runtimeConfig();
  const log = createLogger(`sluice-${name}-service`, config.logLevel);
  const db = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
  // The order service reads the order-state processor's table beside its own.
  await migrate(db, [OUTBOX_MIGRATIONS, MIGRATIONS, service.migrations]);
  const outbox = new Outbox({
    serde: new AvroSerde(new SchemaRegistryClient(config.schemaRegistryUrl)),
    topics: TOPICS,
    schemas: loadSchemaFiles(config.schemasDir),
  });
  const app: FastifyInstance = service.build({ db, outbox, log, metrics: new Metrics() });
  const signal = stopSignal();
  await app.listen({ host: textVar(process.env, "SLUICE_HTTP_HOST") ?? "127.0.0.1", port });
  log.info({ signal: await signal }, `${name} service stopping`);
  await app.close(); // answers the requests in progress first
  await db.end();
  return 0;
}
