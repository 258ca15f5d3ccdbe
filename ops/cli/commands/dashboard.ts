/**
 * `sluice dashboard [--port N] [--every 5s] [--module FILE]`: the web page of ops/dashboard/ until SIGTERM or SIGINT. Its lag
 * monitor samples every group's lag every `--every` and writes the lag and DLQ-growth events the alerting
 * connector's rules watch (SLUICE_ALERT_LAG_SECONDS: how far behind alerts).
 */
import { userInfo } from "node:os";
import { logProducer } from "../../../connectors/log-shipper/log-producer.ts";
import { connectorSettings } from "../../../connectors/settings.ts";
import { createLogger, runtimeConfig, textVar } from "../../../runtime/index.ts";
import { startDashboard } from "../../dashboard/dashboard.ts";
import { LagMonitor } from "../../lag/lag-monitor.ts";
import { duration, parse, positiveInteger, stopSignal } from "../args.ts";
import { dlqDeps } from "./dlq.ts";

const DEFAULT_PORT = 9450;

export async function dashboardCommand(args: string[]): Promise<number> {
  const { values } = parse("dashboard", args, {
    port: { type: "string" },
    every: { type: "string" },
    module: { type: "string" },
  });
  const port = positiveInteger("dashboard", "--port", values.port) ?? DEFAULT_PORT;
  const everyMs = duration("dashboard", "--every", values.every) ?? 5_000;
  const log = createLogger("sluice-dashboard", runtimeConfig().logLevel);
  const deps = await dlqDeps("dashboard", values.module);
  const logs = logProducer("sluice-dashboard-alerts");
  await logs.producer.connect();
  const monitor = new LagMonitor({
    kafka: deps.kafka,
    routes: deps.routes,
    everyMs,
    onError: (error) => log.warn({ err: error }, "lag sample failed"),
    alerts: { logs, lagSeconds: connectorSettings().alertRules.lagSeconds },
  });
  monitor.start();
  const dashboard = await startDashboard({
    deps,
    monitor,
    // Not SLUICE_HTTP_HOST, which a container or a pod sets to every address: replay has no login.
    host: textVar(process.env, "SLUICE_DASHBOARD_HOST") ?? "127.0.0.1",
    port,
    operator: textVar(process.env, "SLUICE_OPERATOR") ?? userInfo().username,
  });
  console.log(`dashboard on ${dashboard.url}`);
  await stopSignal();
  await dashboard.close();
  await monitor.stop();
  await logs.producer.disconnect();
  await deps.db.end();
  return 0;
}
