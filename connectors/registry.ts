/** Every connector of the reference domain that `sluice run` can run by name. */
import type { Sink } from "../runtime/index.ts";
import { logSink } from "./elasticsearch/log-sink.ts";

export const CONNECTORS: readonly Sink[] = [logSink()];
