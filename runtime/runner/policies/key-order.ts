/**
 * Bookkeeping for the key-ordered retry policy: which records of each key sit in which retry tier, so that a
 * later record of a failing key waits behind it (parked in the tiers) while other keys flow.
 *
 * Invariant: for one key, a higher tier only holds records older than any in a lower tier. A record moves up
 * only into the highest tier holding its key, and a new record parks in the lowest, so FIFO within each tier
 * partition keeps the key's order. The tiers of a key's partition are assigned to the same member (range
 * assignor, equal partition counts), so this state is local. It is in memory, forgotten on revocation and
 * read back from the tiers on assignment (ProcessorRunner.recoverKeyOrder).
 */
export type Decision = { action: "process" } | { action: "park"; tierIndex: number };

export class KeyOrder {
  /** key → records of that key in each tier (index = tier index). */
  private readonly pending = new Map<string, number[]>();

  /** A record read from the input topic. */
  onInput(key: string): Decision {
    const tiers = this.pending.get(key);
    if (!tiers) return { action: "process" };
    return { action: "park", tierIndex: tiers.findIndex((n) => n > 0) };
  }

  /** A record read from retry tier `tierIndex`: it has left that tier. Process it unless older ones wait above. */
  onRetry(key: string, tierIndex: number): Decision {
    this.remove(key, tierIndex);
    const tiers = this.pending.get(key);
    const highest = tiers ? tiers.length - 1 - [...tiers].reverse().findIndex((n) => n > 0) : -1;
    return highest > tierIndex ? { action: "park", tierIndex: highest } : { action: "process" };
  }

  /** A record of `key` was written to tier `tierIndex`. */
  added(key: string, tierIndex: number): void {
    const tiers = this.pending.get(key) ?? [];
    while (tiers.length <= tierIndex) tiers.push(0);
    tiers[tierIndex] = (tiers[tierIndex] ?? 0) + 1;
    this.pending.set(key, tiers);
  }

  /** The lowest tier a failing record of `key` may move to without overtaking older records. */
  floorTier(key: string): number {
    const tiers = this.pending.get(key);
    if (!tiers) return 0;
    for (let i = tiers.length - 1; i >= 0; i--) if ((tiers[i] ?? 0) > 0) return i;
    return 0;
  }

  /** The key's state, for `restore`. */
  snapshot(key: string): readonly number[] | undefined {
    const tiers = this.pending.get(key);
    return tiers && [...tiers];
  }

  /** Puts back a key's state from `snapshot`: its records since then will be read again. */
  restore(key: string, snapshot: readonly number[] | undefined): void {
    if (snapshot) this.pending.set(key, [...snapshot]);
    else this.pending.delete(key);
  }

  /** The state of each of `keys`, for `restoreKeys`. */
  snapshotKeys(keys: Iterable<string>): Map<string, readonly number[] | undefined> {
    const states = new Map<string, readonly number[] | undefined>();
    for (const key of keys) if (!states.has(key)) states.set(key, this.snapshot(key));
    return states;
  }

  /** Puts back the keys of `snapshotKeys`: what was done to them since will be done again. */
  restoreKeys(states: ReadonlyMap<string, readonly number[] | undefined>): void {
    for (const [key, state] of states) this.restore(key, state);
  }

  /** Forgets everything: on revocation, the new owner starts from what the tiers hold. */
  clear(): void {
    this.pending.clear();
  }

  private remove(key: string, tierIndex: number): void {
    const tiers = this.pending.get(key);
    if (!tiers || !tiers[tierIndex]) return;
    tiers[tierIndex] -= 1;
    if (tiers.every((n) => n === 0)) this.pending.delete(key);
  }
}
