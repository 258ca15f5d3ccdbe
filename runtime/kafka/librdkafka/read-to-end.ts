/** Reading partitions to their end outside any group: a follower, closed once it has caught up. */
import { SluiceError } from "../../../topics/errors.ts";
import type { ConsumedRecord, PartitionStart } from "../port.ts";
import { follow } from "./follow.ts";

export async function readToEnd(
  brokers: string[],
  starts: PartitionStart[],
  onRecord: (record: ConsumedRecord) => void,
  timeoutMs = 30_000,
): Promise<void> {
  if (starts.length === 0) return;
  const follower = follow(brokers, starts, onRecord);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      follower.caughtUp,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new SluiceError(
                "READ_TIMEOUT",
                `could not read ${starts.length} partitions to their end in ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    await follower.close();
  }
}
