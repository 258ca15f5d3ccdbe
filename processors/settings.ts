/**
 * The reference domain's own settings, read from the environment once, on first use, through the runtime's
 * config helpers (a bad value is a one-line error naming the variable). `sluice run` reads them before it starts
 * anything, so a bad value stops it there rather than failing every record in a handler.
 */
import { durationVar, integerVar } from "../runtime/index.ts";

export interface DomainSettings {
  /** SLUICE_ORDER_TIMEOUT: how long a customer has to pay (the demo uses 10s). */
  paymentTimeoutMs: number;
  /** SLUICE_FLAKY_EMAIL_ATTEMPTS: how many attempts a `+flaky` recipient's mail server refuses. */
  flakyEmailAttempts: number;
  /** SLUICE_INITIAL_STOCK: a SKU's stock the first time an order mentions it (the demo has no restocking). */
  initialStock: number;
  /** SLUICE_FLASHSALE_WRITE_RATE: flash-sale orders the writer writes a second at most, whatever the burst. */
  flashSaleWriteRate: number;
}

let settings: DomainSettings | undefined;

export function domainSettings(): DomainSettings {
  const { env } = process;
  settings ??= {
    paymentTimeoutMs: durationVar(env, "SLUICE_ORDER_TIMEOUT", "30m"),
    flakyEmailAttempts: integerVar(env, "SLUICE_FLAKY_EMAIL_ATTEMPTS", 2, { min: 0 }),
    initialStock: integerVar(env, "SLUICE_INITIAL_STOCK", 1_000_000),
    flashSaleWriteRate: integerVar(env, "SLUICE_FLASHSALE_WRITE_RATE", 200, { min: 1 }),
  };
  return settings;
}
