/** `sluice outbox relay`: publishes the transactional outbox's committed rows to Kafka until SIGTERM. */
import { OutboxRelay } from "../../../connectors/outbox-relay/outbox-relay.ts";
import { createLogger, librdkafka, runtimeConfig } from "../../../runtime/index.ts";
import { UsageError } from "../../../topics/errors.ts";
import { expectNoArgs, stopSignal } from "../args.ts";

export async function outboxCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "relay") throw new UsageError("usage: sluice outbox relay");
  expectNoArgs("outbox relay", rest);
  const config = runtimeConfig();
  const log = createLogger("sluice-outbox-relay", config.logLevel);
  const relay = new OutboxRelay({
    databaseUrl: config.databaseUrl,
    kafka: librdkafka({ brokers: config.kafkaBrokers, clientId: "sluice-outbox-relay" }),
    log,
  });
  const signal = stopSignal();
  await Promise.race([relay.start(), signal]);
  log.info({ signal: await signal }, "outbox relay stopping");
  await relay.stop();
  log.info({ published: relay.published }, "outbox relay stopped");
  return 0;
}
