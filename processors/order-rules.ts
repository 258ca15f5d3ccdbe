/**
 * What an order must be, beyond what its schema allows: every consumer of orders.created checks it first, and an
 * impossible order (no items, a quantity of zero or less, a negative amount, a creation time that is no epoch
 * millisecond) goes to the DLQ as VALIDATION instead of moving stock or points.
 */

import { ValidationError } from "../runtime/index.ts";
import type { OrderCreated } from "../schemas/types.generated.ts";

export function validOrder(order: OrderCreated): OrderCreated {
  const problems: string[] = [];
  if (!order.orderId) problems.push("orderId is empty");
  if (!order.userId) problems.push("userId is empty");
  if (order.items.length === 0) problems.push("items is empty");
  for (const [i, item] of order.items.entries()) {
    if (!item.sku) problems.push(`items[${i}].sku is empty`);
    if (item.quantity <= 0) problems.push(`items[${i}].quantity is ${item.quantity}, not above 0`);
    if (item.unitPriceCents < 0n) problems.push(`items[${i}].unitPriceCents is negative (${item.unitPriceCents})`);
  }
  if (order.totalCents < 0n) problems.push(`totalCents is negative (${order.totalCents})`);
  if (order.createdAt <= 0n || order.createdAt > BigInt(Number.MAX_SAFE_INTEGER)) {
    problems.push(`createdAt ${order.createdAt} is not a time in epoch milliseconds`);
  }
  if (problems.length > 0) throw new ValidationError(`order ${order.orderId}: ${problems.join("; ")}`);
  return order;
}
