/**
 * The topic catalog: every topic of the reference domain, as code. `sluice topics apply` reconciles the cluster
 * with it; `sluice schemas register` registers each value schema under `<topic>-value`.
 *
 * Replication is 1 on the local single-node stack; set SLUICE_REPLICATION_FACTOR=3 for a real cluster.
 */
import type { Duration } from "./duration.ts";
import { type BusinessTopic, planBusinessTopic, planDelayTier, type TopicPlan } from "./topic.ts";

const replicationFactor = Number(process.env.SLUICE_REPLICATION_FACTOR || 1);

type Defaulted = "replicationFactor" | "compression" | "cleanupPolicy" | "consumers" | "compatibility";

function topic(spec: Omit<BusinessTopic, Defaulted> & Partial<Pick<BusinessTopic, Defaulted>>): BusinessTopic {
  return {
    replicationFactor,
    compression: "zstd",
    cleanupPolicy: "delete",
    compatibility: "BACKWARD",
    consumers: [],
    ...spec,
  };
}

export const TOPICS: readonly BusinessTopic[] = [
  topic({
    name: "orders.created",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderCreated",
    retention: "7d",
    consumers: [
      { group: "inventory", retryTiers: ["5s", "1m"] },
      { group: "points", retryTiers: ["5s", "1m", "10m"] },
      { group: "email", retryTiers: ["5s", "1m", "10m"] },
      { group: "order-timeout", retryTiers: ["5s", "1m"] },
    ],
  }),
  topic({
    name: "orders.state",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderStateChanged",
    retention: "7d",
    consumers: [{ group: "order-state", retryTiers: ["1s", "10s", "1m"] }],
  }),
  topic({
    name: "orders.cancelled",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderCancelled",
    retention: "7d",
    consumers: [{ group: "inventory-restore", retryTiers: ["5s", "1m"] }],
  }),
  topic({
    name: "orders.payment-due",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderPaymentDue",
    retention: "7d",
    consumers: [{ group: "order-timeout-check", retryTiers: ["5s", "1m"] }],
  }),
  topic({
    name: "inventory.changes",
    partitions: 6,
    key: "sku",
    valueSchema: "sluice.inventory.InventoryChanged",
    retention: "7d",
  }),
  topic({
    name: "emails.outbound",
    partitions: 6,
    key: "emailId",
    valueSchema: "sluice.emails.EmailRequested",
    retention: "3d",
    consumers: [{ group: "email-sender", retryTiers: ["5s", "1m", "10m"] }],
  }),
  topic({
    name: "users.status",
    partitions: 6,
    key: "userId",
    valueSchema: "sluice.users.UserStatusChanged",
    cleanupPolicy: "compact",
    retention: "forever",
  }),
  topic({
    name: "videos.uploaded",
    partitions: 6,
    key: "videoId",
    valueSchema: "sluice.videos.VideoUploaded",
    retention: "7d",
    consumers: [{ group: "video-transcoder", retryTiers: ["1m", "10m"] }],
  }),
  topic({
    name: "videos.processed",
    partitions: 6,
    key: "videoId",
    valueSchema: "sluice.videos.VideoProcessed",
    retention: "7d",
  }),
  topic({
    name: "flashsale.purchases",
    partitions: 12,
    key: "userId",
    valueSchema: "sluice.flashsale.FlashSalePurchase",
    retention: "1d",
    consumers: [{ group: "flashsale-orders", retryTiers: ["1s", "10s"] }],
  }),
  topic({
    name: "config.updates",
    partitions: 1,
    key: "key",
    valueSchema: "sluice.config.ConfigUpdated",
    // Every service reads config, old versions and new: both directions must keep working.
    compatibility: "FULL_TRANSITIVE",
    cleanupPolicy: "compact",
    retention: "forever",
  }),
  topic({
    name: "logs.app",
    partitions: 12,
    key: "appId",
    valueSchema: "sluice.logs.LogEvent",
    retention: "3d",
    compression: "lz4",
    consumers: [{ group: "log-sink", retryTiers: ["5s", "1m"] }],
  }),
  topic({
    name: "alerts",
    partitions: 3,
    key: "alertId",
    valueSchema: "sluice.alerts.Alert",
    retention: "30d",
    consumers: [{ group: "alert-sink", retryTiers: ["5s", "1m"] }],
  }),
];

/**
 * Fixed-delay tiers for `ctx.schedule`: a delay cascades down through them, and the last hop waits the exact
 * remainder. Each tier's records are due in arrival order, so a consumer only ever waits for a partition's head.
 * `0s` carries delays under a second straight to the router, which waits them out itself.
 */
export const DELAY_TIERS: readonly Duration[] = ["0s", "1s", "10s", "1m", "10m", "1h"];
const DELAY_PARTITIONS = 6;

export function catalogPlan(topics: readonly BusinessTopic[] = TOPICS): TopicPlan[] {
  return [
    ...topics.flatMap(planBusinessTopic),
    ...DELAY_TIERS.map((delay) => planDelayTier(delay, DELAY_PARTITIONS, replicationFactor)),
  ];
}

export function topicByName(name: string, topics: readonly BusinessTopic[] = TOPICS): BusinessTopic | undefined {
  return topics.find((t) => t.name === name);
}
