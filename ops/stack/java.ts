/** Finds a JDK for the stack's JVM components: JAVA_HOME, the `java` on PATH, then /usr/lib/jvm. */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";
import { SluiceError } from "../../topics/errors.ts";
import { stackConfig } from "./stack-config.ts";

export interface Jdk {
  home: string;
  java: string;
  major: number;
}

export function findJdk(minMajor = 17): Jdk {
  const candidates = [
    stackConfig().javaHome,
    javaOnPath(),
    ...(existsSync("/usr/lib/jvm") ? readdirSync("/usr/lib/jvm").map((d) => path.join("/usr/lib/jvm", d)) : []),
  ].filter((home): home is string => Boolean(home));
  for (const home of candidates) {
    const java = path.join(home, "bin", "java");
    if (!existsSync(java)) continue;
    const major = javaMajor(java);
    if (major >= minMajor) return { home, java, major };
  }
  throw new SluiceError(
    "STACK_START_FAILED",
    `no JDK ${minMajor}+ found: set JAVA_HOME (looked in ${candidates.join(", ") || "nothing"})`,
  );
}

function javaOnPath(): string | undefined {
  try {
    const java = execFileSync("sh", ["-c", "command -v java"], { encoding: "utf8" }).trim();
    return java ? path.dirname(path.dirname(realpathSync(java))) : undefined;
  } catch {
    return undefined;
  }
}

function javaMajor(java: string): number {
  // `java -XshowSettings` prints to stderr.
  const { stderr } = spawnSync(java, ["-XshowSettings:properties", "-version"], { encoding: "utf8" });
  const match = /java\.specification\.version = (\d+)/.exec(stderr ?? "");
  return match ? Number(match[1]) : 0;
}
