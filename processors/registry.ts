/** Every processor of the reference domain, by name, and the migrations of their tables. */
import path from "node:path";
import type { Processor, Sink } from "../runtime/index.ts";
import { orderConfirmation } from "./email/order-confirmation.ts";
import { sendEmail } from "./email-sender/send-email.ts";
import { expireReservation, scheduleReservationExpiry } from "./flashsale/expire-reservations.ts";
import { flashSaleWriter } from "./flashsale/write-orders.ts";
import { reserveStock } from "./inventory/reserve-stock.ts";
import { restoreStock } from "./inventory/restore-stock.ts";
import { orderLifecycle } from "./order-state/order-lifecycle.ts";
import { cancelUnpaid } from "./order-timeout/cancel-unpaid.ts";
import { schedulePaymentCheck } from "./order-timeout/schedule-payment-check.ts";
import { grantPoints } from "./points/grant-points.ts";
import { syncUsers } from "./user-directory/sync-users.ts";
import { transcodeVideo } from "./videos/transcode-video.ts";
import { videoStatus } from "./videos/video-status.ts";

export const PROCESSORS: readonly Processor[] = [
  reserveStock,
  restoreStock,
  grantPoints,
  orderConfirmation,
  sendEmail,
  orderLifecycle,
  schedulePaymentCheck,
  cancelUnpaid,
  syncUsers,
  scheduleReservationExpiry,
  expireReservation,
  transcodeVideo,
  videoStatus,
];

/** The reference domain's sinks; built on first use, as they read their settings from the environment. */
export function domainSinks(): Sink[] {
  return [flashSaleWriter() as Sink];
}

/** The SQL migrations of the processors' tables (stock, points, emails, order states, the user directory, flash sales, videos). */
export const MIGRATIONS = path.join(import.meta.dirname, "migrations");
