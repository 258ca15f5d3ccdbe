/**
 * A burst of flash-sale purchase attempts sent to a gateway by autocannon, each from one of `users` users with a
 * request id of its own, every answer counted: the demo's, the tests' and the bench's load.
 */
import { randomUUID } from "node:crypto";
import autocannon from "autocannon";
import type { Sale } from "../../processors/flashsale/sale-store.ts";

export interface BurstResult {
  /** Answers by status and code, e.g. "202", "409 SOLD_OUT", "429". */
  answers: Map<string, number>;
  /** The reservation ids of the 202s. */
  reservations: string[];
  seconds: number;
  p50Ms: number;
  p99Ms: number;
}

/** Sends `attempts` purchase attempts for one unit each, over `connections` connections, as fast as they go. */
export async function burst(
  url: string,
  sale: Sale,
  { attempts, users, connections = 100 }: { attempts: number; users: number; connections?: number },
): Promise<BurstResult> {
  const answers = new Map<string, number>();
  const reservations: string[] = [];
  const run = randomUUID().slice(0, 8);
  let sent = 0;
  const result = await autocannon({
    url,
    connections,
    amount: attempts,
    requests: [
      {
        method: "POST",
        path: `/flash-sales/${sale.saleId}/purchases`,
        headers: { "content-type": "application/json" },
        setupRequest: (request) => {
          const n = sent++;
          const body = { userId: `user-${n % users}`, sku: sale.sku, quantity: 1, requestId: `${run}-${n}` };
          return { ...request, body: JSON.stringify(body) };
        },
        onResponse: (status, body) => {
          const parsed = JSON.parse(body) as { code?: string; reservationId?: string };
          if (parsed.reservationId) reservations.push(parsed.reservationId);
          const answer = parsed.code && status !== 429 ? `${status} ${parsed.code}` : String(status);
          answers.set(answer, (answers.get(answer) ?? 0) + 1);
        },
      },
    ],
  });
  return {
    answers,
    reservations,
    seconds: result.duration,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
  };
}
