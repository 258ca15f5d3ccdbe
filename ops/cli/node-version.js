// Plain JavaScript, so that any Node can load it: why a Node cannot run Sluice's TypeScript, if it cannot.

/**
 * The one-line reason `version` cannot run Sluice, or undefined when it can.
 * @param {string} version
 * @returns {string | undefined}
 */
export function nodeTooOld(version) {
  const major = Number(/^v?(\d+)/.exec(version)?.[1] ?? 0);
  if (major >= 24) return undefined;
  return `sluice: needs Node.js 24 or newer, this is ${version}: run \`source ops/toolchain/env.sh\` (it provides Node 24) and try again [NODE_TOO_OLD]`;
}
