/** The retry policy a route names, chosen once when its runner is built. */
import type { Logger } from "pino";
import type { Clock } from "../../clock.ts";
import type { KafkaPort } from "../../kafka/port.ts";
import type { Metrics } from "../../metrics.ts";
import type { Route } from "../../route.ts";
import type { FailureCopies } from "../failure-copies.ts";
import { Blocking } from "./blocking.ts";
import { KeyOrdered } from "./key-ordered.ts";
import { NonBlocking } from "./non-blocking.ts";
import type { RetryPolicy } from "./retry-policy.ts";

export function policyFor(
  route: Route,
  copies: FailureCopies,
  deps: { kafka: KafkaPort; clock: Clock; metrics: Metrics; log: Logger },
): RetryPolicy {
  switch (route.retry) {
    case "non-blocking":
      return new NonBlocking(route, copies);
    case "blocking":
      return new Blocking(route, copies, deps);
    case "key-ordered":
      return new KeyOrdered(route, copies, deps);
  }
}
