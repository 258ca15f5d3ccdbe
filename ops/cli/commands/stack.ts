import { UsageError } from "../../../topics/errors.ts";
import {
  OPTIONAL_COMPONENTS,
  type OptionalComponent,
  stackComponents,
  stackDown,
  stackStatus,
  stackUp,
} from "../../stack/stack.ts";
import { expectNoArgs } from "../args.ts";

/** `stack up|status [--with s3]`, `stack down` (stops the optional components too). */
export async function stackCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const optional: OptionalComponent[] = [];
  while (rest[0] === "--with") {
    const name = rest[1];
    if (!name || !(name in OPTIONAL_COMPONENTS)) {
      throw new UsageError(`--with takes one of: ${Object.keys(OPTIONAL_COMPONENTS).join(", ")}`);
    }
    optional.push(name as OptionalComponent);
    rest.splice(0, 2);
  }
  expectNoArgs(`stack ${action}`, rest);
  switch (action) {
    case "up":
      await stackUp(stackComponents(optional));
      return 0;
    case "down":
      await stackDown();
      return 0;
    case "status":
      return (await stackStatus(stackComponents(optional))) ? 0 : 1;
    default:
      throw new UsageError(`stack needs one of: up, down, status${action ? ` (got '${action}')` : ""}`);
  }
}
