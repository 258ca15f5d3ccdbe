import { UsageError } from "../../../topics/errors.ts";
import { stackDown, stackStatus, stackUp } from "../../stack/stack.ts";
import { expectNoArgs } from "../args.ts";

export async function stackCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  expectNoArgs(`stack ${action}`, rest);
  switch (action) {
    case "up":
      await stackUp();
      return 0;
    case "down":
      await stackDown();
      return 0;
    case "status":
      return (await stackStatus()) ? 0 : 1;
    default:
      throw new UsageError(`stack needs one of: up, down, status${action ? ` (got '${action}')` : ""}`);
  }
}
