-- The user directory (processors/user-directory): this side's copy of the user service's users, kept from
-- users.status. A row holds the highest version seen and the event that brought it.
CREATE TABLE IF NOT EXISTS user_directory (
  user_id    text        PRIMARY KEY,
  status     text        NOT NULL,
  email      text,
  version    bigint      NOT NULL,
  event_id   text        NOT NULL,
  updated_at timestamptz NOT NULL
);
