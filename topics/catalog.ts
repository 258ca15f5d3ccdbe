/**
 * The reference domain's topic catalog, as code: its business topics. `sluice topics apply` creates them with the
 * retry tiers and DLQs that the registered processors' routes derive, and the platform's delay tiers;
 * `sluice schemas register` registers each value schema under `<topic>-value`.
 */
import { type BusinessTopic, businessTopic as topic } from "./topic.ts";

export const TOPICS: readonly BusinessTopic[] = [
  topic({
    name: "orders.created",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderCreated",
    retention: "7d",
  }),
  topic({
    name: "orders.state",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderStateChanged",
    retention: "7d",
  }),
  topic({
    name: "orders.cancelled",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderCancelled",
    retention: "7d",
  }),
  topic({
    name: "orders.payment-due",
    partitions: 12,
    key: "orderId",
    valueSchema: "sluice.orders.OrderPaymentDue",
    retention: "7d",
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
  }),
  topic({
    name: "flashsale.payment-due",
    partitions: 12,
    key: "purchaseId",
    valueSchema: "sluice.flashsale.FlashSalePaymentDue",
    retention: "7d",
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
  }),
  topic({
    name: "alerts",
    partitions: 3,
    key: "alertId",
    valueSchema: "sluice.alerts.Alert",
    retention: "30d",
  }),
  topic({
    name: "alerts.checks",
    partitions: 3,
    key: "checkId",
    valueSchema: "sluice.alerts.AlertCheck",
    retention: "7d",
  }),
  topic({
    name: "sluice.audit",
    partitions: 1,
    key: "auditId",
    valueSchema: "sluice.ops.AuditRecord",
    // What operators did stays as long as the cluster does.
    retention: "forever",
  }),
];
