/**
 * Integration tests run against the real stack. If it is not up, say so once, clearly, instead of letting every
 * test time out: `bash ops/test.sh` (the README's test command) brings it up first.
 */
import { stackComponents } from "../../ops/stack/stack.ts";

export default async function stackReady(): Promise<void> {
  const components = stackComponents(["s3"]); // the archive tests write to S3Proxy
  const health = await Promise.all(components.map((c) => c.probe()));
  const down = components.filter((_, i) => !health[i]?.healthy).map((c) => `${c.name} (${c.address})`);
  if (down.length) {
    throw new Error(
      `the local stack is not healthy: ${down.join(", ")}. Run \`npx sluice stack up\` or \`bash ops/test.sh\`.`,
    );
  }
}
