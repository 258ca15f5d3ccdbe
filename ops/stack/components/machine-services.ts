/**
 * PostgreSQL and Redis are the machine's own services. `up` starts them when they are local and stopped,
 * and remembers that it did, so that `down` stops only what `up` started.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { Redis } from "ioredis";
import pg from "pg";
import { LOCAL_ENDPOINTS, redact, runtimeConfig } from "../../../runtime/index.ts";
import type { Component, Health } from "../component.ts";
import { markStarted, takeStartedMark } from "../process.ts";

export function postgresComponent(): Component {
  const url = runtimeConfig().databaseUrl;
  return {
    name: "postgresql",
    address: redact(url),
    local: url === LOCAL_ENDPOINTS.databaseUrl,
    startTimeoutMs: 30_000,
    async probe(): Promise<Health> {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
      try {
        await client.connect();
        const { rows } = await client.query<{ server_version: string }>("show server_version");
        return { healthy: true, version: rows[0]?.server_version.split(" ")[0] };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      } finally {
        await client.end().catch(() => {});
      }
    },
    async start(progress) {
      const cluster = postgresCluster();
      progress(`starting the machine's PostgreSQL ${cluster} cluster`);
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", cluster, "main", "start"], { stdio: "inherit" });
      markStarted("postgresql");
    },
    async stop() {
      if (!takeStartedMark("postgresql")) return false;
      execFileSync("pg_ctlcluster", ["--skip-systemctl-redirect", postgresCluster(), "main", "stop"], {
        stdio: "inherit",
      });
      return true;
    },
  };
}

export function redisComponent(): Component {
  const url = runtimeConfig().redisUrl;
  return {
    name: "redis",
    address: redact(url),
    local: url === LOCAL_ENDPOINTS.redisUrl,
    startTimeoutMs: 15_000,
    async probe(): Promise<Health> {
      const redis = new Redis(url, {
        lazyConnect: true,
        connectTimeout: 2_000,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      redis.on("error", () => {});
      try {
        await redis.connect();
        const info = await redis.info("server");
        return { healthy: true, version: /redis_version:(\S+)/.exec(info)?.[1] };
      } catch (error) {
        return { healthy: false, detail: (error as Error).message };
      } finally {
        redis.disconnect();
      }
    },
    async start(progress) {
      progress("starting the machine's redis-server");
      execFileSync(
        "redis-server",
        ["--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379", "--save", "", "--appendonly", "no"],
        { stdio: "inherit" },
      );
      markStarted("redis");
    },
    async stop() {
      if (!takeStartedMark("redis")) return false;
      execFileSync("redis-cli", ["-u", url, "shutdown", "nosave"], { stdio: "ignore" });
      return true;
    },
  };
}

export function postgresCluster(): string {
  const versions = existsSync("/etc/postgresql") ? readdirSync("/etc/postgresql") : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error("no PostgreSQL cluster under /etc/postgresql: install postgresql or set DATABASE_URL");
  return newest;
}
