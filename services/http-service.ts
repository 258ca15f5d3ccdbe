/**
 * The reference services' HTTP front door: Fastify with the runtime's pino logger (ECS fields, so Kibana reads
 * them), request bodies checked against JSON schemas (no type coercion, no unknown fields), /metrics with request
 * counts and durations by route, /health/live and /health/ready.
 */
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from "fastify";
import type { Logger } from "pino";
import client from "prom-client";
import type { Metrics } from "../runtime/index.ts";

export interface HttpServiceOptions {
  log: Logger;
  metrics: Metrics;
  /** Whether the service can take requests (its database answers). */
  ready(): Promise<boolean>;
}

export function httpService({ log, metrics, ready }: HttpServiceOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, useDefaults: true, allErrors: true } },
  });
  const seconds = new client.Histogram({
    name: "sluice_http_request_duration_seconds",
    help: "HTTP requests, by method, route and status",
    labelNames: ["method", "route", "status"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [metrics.registry],
  });
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "unmatched";
    seconds.observe({ method: request.method, route, status: reply.statusCode }, reply.elapsedTime / 1_000);
  });
  // A client's mistake is answered as it is; anything else is logged and answered without its internals.
  app.setErrorHandler((error: { statusCode?: number; message: string }, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send(error);
    request.log.error({ err: error }, "request failed");
    return reply
      .code(status)
      .send(problem("INTERNAL", `the service could not complete the request (request ${request.id}); see its log`));
  });
  app.get("/metrics", async (_request, reply) =>
    reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
  app.get("/health/live", async () => ({ status: "up" }));
  app.get("/health/ready", async (_request, reply) => {
    const ok = await ready().catch(() => false);
    return reply.code(ok ? 200 : 503).send({ status: ok ? "ready" : "not ready" });
  });
  return app;
}

/** A problem a client can act on: the status, a stable code and a sentence. */
export function problem(code: string, message: string) {
  return { code, message };
}
