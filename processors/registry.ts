/** Every processor `sluice run` knows, by name. */
import { orderConfirmation } from "./email/order-confirmation.ts";
import { sendEmail } from "./email-sender/send-email.ts";
import { reserveStock } from "./inventory/reserve-stock.ts";
import { restoreStock } from "./inventory/restore-stock.ts";
import { orderLifecycle } from "./order-state/order-lifecycle.ts";
import { cancelUnpaid } from "./order-timeout/cancel-unpaid.ts";
import { schedulePaymentCheck } from "./order-timeout/schedule-payment-check.ts";
import { grantPoints } from "./points/grant-points.ts";
import type { ProcessorDefinition } from "./runtime/processor.ts";

// Each definition is typed by its own input topic; the list holds them as the runtime sees them, untyped.
export const PROCESSORS: readonly ProcessorDefinition[] = [
  reserveStock,
  restoreStock,
  grantPoints,
  orderConfirmation,
  sendEmail,
  orderLifecycle,
  schedulePaymentCheck,
  cancelUnpaid,
] as unknown as ProcessorDefinition[];
