/**
 * The reference user service: `PUT /users/:userId/status {status, email?}` changes a user in its own table and
 * publishes the change, with the user's new version, to users.status (compacted, keyed by userId) through the
 * transactional outbox, in the same transaction. Other services keep their own copy from that topic (the
 * user-directory processor). `GET /users/:userId` answers with the service's own row.
 */
import path from "node:path";
import type { FastifyInstance } from "fastify";
import type pg from "pg";
import type { Logger } from "pino";
import type { Outbox } from "../../connectors/outbox-relay/outbox.ts";
import { inTransaction, type Metrics } from "../../runtime/index.ts";
import type { UserStatus } from "../../schemas/types.generated.ts";
import { httpService, problem } from "../http-service.ts";

export const USER_SERVICE_MIGRATIONS = path.join(import.meta.dirname, "migrations");

export interface UserServiceDeps {
  db: pg.Pool;
  outbox: Outbox;
  log: Logger;
  metrics: Metrics;
}

interface UserRow {
  user_id: string;
  status: UserStatus;
  email: string | null;
  version: string;
  updated_at: Date;
}

const userParams = {
  type: "object",
  required: ["userId"],
  properties: { userId: { type: "string", minLength: 1, maxLength: 200 } },
} as const;
const statusRequest = {
  type: "object",
  required: ["status"],
  additionalProperties: false,
  properties: {
    status: { type: "string", enum: ["ACTIVE", "SUSPENDED", "DELETED"] },
    email: { type: "string", pattern: "^[^@\\s]+@[^@\\s]+$", maxLength: 320 },
  },
} as const;

export function userService({ db, outbox, log, metrics }: UserServiceDeps): FastifyInstance {
  const app = httpService({ log, metrics, ready: async () => (await db.query("SELECT 1")).rowCount === 1 });

  app.put<{ Params: { userId: string }; Body: { status: UserStatus; email?: string } }>(
    "/users/:userId/status",
    { schema: { params: userParams, body: statusRequest } },
    async (request) => {
      const { userId } = request.params;
      const { status, email } = request.body;
      const user = await inTransaction(db, async (tx) => {
        const { rows } = await tx.query<UserRow>(
          `INSERT INTO users (user_id, status, email, version) VALUES ($1, $2, $3, 1)
           ON CONFLICT (user_id) DO UPDATE
             SET status = $2, email = coalesce($3, users.email), version = users.version + 1, updated_at = now()
           RETURNING *`,
          [userId, status, email ?? null],
        );
        const row = rows[0] as UserRow;
        await outbox.publish(tx, "users.status", userId, {
          userId,
          status: row.status,
          email: row.email,
          version: BigInt(row.version),
          updatedAt: BigInt(row.updated_at.getTime()),
        });
        return row;
      });
      request.log.info({ "user.id": userId, "user.status": status, version: user.version }, "user changed");
      return view(user);
    },
  );

  app.get<{ Params: { userId: string } }>(
    "/users/:userId",
    { schema: { params: userParams } },
    async (request, reply) => {
      const { rows } = await db.query<UserRow>("SELECT * FROM users WHERE user_id = $1", [request.params.userId]);
      const user = rows[0];
      if (!user) return reply.code(404).send(problem("USER_NOT_FOUND", `no user ${request.params.userId}`));
      return view(user);
    },
  );
  return app;
}

function view(user: UserRow) {
  return {
    userId: user.user_id,
    status: user.status,
    email: user.email,
    version: Number(user.version),
    updatedAt: user.updated_at.toISOString(),
  };
}
