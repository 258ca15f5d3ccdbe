/**
 * /metrics (Prometheus text), /health/live (the process answers) and /health/ready (every processor runs and no
 * partition is stalled; the answer lists the stalled ones).
 */
import { createServer, type Server } from "node:http";
import type { Metrics } from "./metrics.ts";
import type { StalledPartition } from "./stalled-partitions.ts";

export interface Readiness {
  ready: boolean;
  stalled: StalledPartition[];
}

export function startHttpServer(
  where: { host: string; port: number },
  metrics: Metrics,
  readiness: () => Readiness,
): Promise<Server> {
  const server = createServer(async (request, response) => {
    const path = request.url?.split("?")[0];
    if (path === "/metrics") {
      response.writeHead(200, { "content-type": metrics.registry.contentType });
      response.end(await metrics.registry.metrics());
    } else if (path === "/health/live") {
      response.writeHead(200, { "content-type": "application/json" }).end('{"status":"up"}');
    } else if (path === "/health/ready") {
      const { ready, stalled } = readiness();
      response
        .writeHead(ready ? 200 : 503, { "content-type": "application/json" })
        .end(JSON.stringify({ status: ready ? "ready" : "not ready", stalled }));
    } else {
      response.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(where.port, where.host, () => resolve(server));
  });
}
