/**
 * The deterministic test driver's public face, for the runtime's tests and a team's own: in the spirit of Kafka
 * Streams' TopologyTestDriver and karafka-testing, it runs the unchanged runtime on an in-memory Kafka and a
 * simulated clock.
 */
export { type DrivenRecord, type DriverOptions, TestDriver } from "./driver.ts";
export { MemoryKafka } from "./memory-kafka.ts";
export { MemoryLedger } from "./memory-ledger.ts";
export { partitionOf } from "./memory-log.ts";
export { MemoryRegistry } from "./memory-registry.ts";
export { SimulatedClock } from "./simulated-clock.ts";
