/**
 * Event ids of records a handler produces are derived from the input's event id and the output's position, so
 * that reprocessing a record (at-least-once) produces the same ids and consumers' ledgers see duplicates as such.
 */
import { hash } from "node:crypto";

export function childEventId(parentEventId: string, index: number): string {
  const hex = hash("sha256", `${parentEventId}/${index}`, "hex");
  // Shaped as a version-8 (custom) UUID.
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 17), 16) & 0x3) | 0x8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
