/**
 * The runtime's public face: everything a team's processors, connectors, operations and tests use. The runtime is
 * generic over any team's catalog: it receives the topics, schemas and processors as parameters and imports
 * nothing of a domain. The deterministic test driver has its own face, `runtime/testing/index.ts`.
 */

export {
  CONFIG_CHANNEL,
  CONFIG_TOPIC,
  type ConfigChange,
  ConfigSubscriber,
  type ConfigSubscriberDeps,
} from "./broadcast/config-subscriber.ts";
export { CatalogProducer, type CatalogProducerOptions, type SentRecord } from "./catalog-producer.ts";
export { type Clock, sleep, systemClock, type Timer } from "./clock.ts";
// Running them.
export {
  durationVar,
  type Endpoints,
  integerVar,
  LOCAL_ENDPOINTS,
  loadConfig,
  type RuntimeConfig,
  redact,
  runtimeConfig,
  textVar,
} from "./config.ts";
export { type CrashPoint, crashPoint } from "./crash-point.ts";
export { DelayRouter, type DelayRouterDeps } from "./delay/delay-router.ts";
export { childEventId } from "./event-id.ts";
export {
  classify,
  type FailureClass,
  isOutage,
  PermanentError,
  RetryableError,
  UnavailableError,
  ValidationError,
} from "./failure.ts";
export {
  HEADER,
  headerList,
  newEventHeaders,
  type OutgoingHeader,
  type OutgoingHeaders,
  type RecordHeader,
  type RecordHeaders,
  textHeaders,
} from "./headers.ts";
export { type HostOptions, ProcessorHost } from "./host.ts";
export type { Readiness } from "./http-server.ts";
export { type LibrdkafkaOptions, librdkafka, librdkafkaBuild } from "./kafka/librdkafka/index.ts";
// Kafka, records and values.
export type * from "./kafka/port.ts";
export { wholeTopic } from "./kafka/whole-topic.ts";
export { type Ledger, multiOf, type OnceResult, type OnceScope, transactionOf } from "./ledger/ledger.ts";
export { migrate } from "./ledger/migrate.ts";
export { PostgresLedger } from "./ledger/postgres-ledger.ts";
export { RedisLedger } from "./ledger/redis-ledger.ts";
export { createLogger, loggerOptions } from "./logger.ts";
export { Metrics } from "./metrics.ts";
export { inTransaction, newPool, type Queryable } from "./postgres.ts";
// Declaring processors and their routes.
export {
  type ConfigView,
  type Context,
  type DeliveryMode,
  type InputRecord,
  type Processor,
  type ProcessorDefinition,
  processorsFor,
  type RetryPolicy,
  type RuntimeContext,
  type TopicOf,
  type When,
} from "./processor.ts";
export {
  DEFAULT_KEY_CONCURRENCY,
  DEFAULT_RETRY_TIERS,
  DELAY_TIERS,
  type Route,
  routeOf,
  routesOf,
  topicPlan,
} from "./route.ts";
export { ProcessorRunner, type RuntimeDeps } from "./runner/runner.ts";
export { redactText, secretValues } from "./secrets.ts";
export { AvroSerde, type Decoded, type WriterSchema } from "./serde/avro-serde.ts";
export { DecodeError, EncodeError } from "./serde/decode-error.ts";
export { frame, unframe } from "./serde/wire-format.ts";
export { SinkRunner } from "./sink/sink-runner.ts";
export {
  isSink,
  type Sink,
  type SinkBatching,
  type SinkContext,
  type SinkDefinition,
  type SinkRecord,
  type SinkWriteResult,
  sinksFor,
} from "./sink.ts";
export type { StalledPartition } from "./stalled-partitions.ts";
export { TokenBucket } from "./token-bucket.ts";
export { BROKER_DEFAULT_MAX_MESSAGE_BYTES, recordBytes, TopicLimits } from "./topic-limits.ts";
