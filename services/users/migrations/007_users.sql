-- The reference user service's own table (services/users): each change of a user raises its version, which goes
-- out with the change on users.status (through the outbox) so that read models keep the newest.
CREATE TABLE IF NOT EXISTS users (
  user_id    text        PRIMARY KEY,
  status     text        NOT NULL,
  email      text,
  version    bigint      NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
