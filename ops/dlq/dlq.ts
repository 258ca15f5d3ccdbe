/**
 * The dead-letter queues of the processors and sinks a deployment knows (`sluice dlq list|show|replay`).
 *
 * Kafka cannot take a record out of a topic, so a DLQ record an operator moved is marked in PostgreSQL
 * (`sluice_dlq_moves`, by topic, partition and offset): `list` and `show` leave marked records out, and `replay`
 * never moves one twice. A replay re-validates each record against its input's current schema (one that still does
 * not fit stays, counted), and sends the others to the group alone: its first retry tier, due at once; for a
 * group without tiers (a sink's), its input, to the partition the record was read from, with a `replay-group`
 * header that every other group's runtime skips. So no other group sees them again. Each copy carries a `replay-count`; a record replayed `cap` times already goes to
 * `<dlq>.parked` instead, and never loops. Copies are produced (acknowledged) before their marks are written: a
 * replay that dies between the two sends those records again next time, which the group's `ctx.once` drops.
 * Every replay that moves anything leaves an audit record on `sluice.audit`.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import type pg from "pg";
import {
  type Admin,
  type AvroSerde,
  type ConsumedRecord,
  DecodeError,
  HEADER,
  headerList,
  type KafkaPort,
  newEventHeaders,
  type OutgoingMessage,
  type Producer,
  type Route,
  systemClock,
  TokenBucket,
  textHeaders,
  wholeTopic,
} from "../../runtime/index.ts";
import type { SchemaFile } from "../../schemas/schema-files.ts";
import { SluiceError, UsageError } from "../../topics/errors.ts";
import { type BusinessTopic, topicByName } from "../../topics/topic.ts";

export const DLQ_MIGRATIONS = path.join(import.meta.dirname, "migrations");
export const AUDIT_TOPIC = "sluice.audit";
/** Replays a record may have had before it is parked. */
export const DEFAULT_REPLAY_CAP = 3;

export interface DlqDeps {
  kafka: KafkaPort;
  serde: AvroSerde;
  db: pg.Pool;
  routes: readonly Route[];
  topics: readonly BusinessTopic[];
  schemas: ReadonlyMap<string, SchemaFile>;
}

export interface DlqFilter {
  group?: string | undefined;
  /** The original (input) topic. */
  topic?: string | undefined;
  errorClass?: string | undefined;
  key?: string | undefined;
  /** Epoch ms: when the record reached the DLQ (its timestamp), inclusive. */
  from?: number | undefined;
  to?: number | undefined;
}

export interface DlqRecord {
  route: Route;
  record: ConsumedRecord;
  key: string;
  headers: Record<string, string>;
  errorClass: string;
  replayCount: number;
}

/** A filter's fields as text, as `sluice dlq`'s flags and the dashboard's query name them. */
export type DlqFilterFields = Partial<Record<"group" | "topic" | "class" | "key" | "from" | "to", string>>;

/** The filter `fields` say; `from` and `to` are dates or ISO times, a bad one named in the error by `label`. */
export function dlqFilter(fields: DlqFilterFields, label: (field: string) => string): DlqFilter {
  const time = (field: "from" | "to") => {
    const value = fields[field];
    if (value === undefined) return undefined;
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new UsageError(`${label(field)} needs a date or an ISO time, got '${value}'`);
    return ms;
  };
  return {
    group: fields.group,
    topic: fields.topic,
    errorClass: fields.class,
    key: fields.key,
    from: time("from"),
    to: time("to"),
  };
}

/** The routes whose DLQ the filter's group and topic pick. */
function routesOf(deps: DlqDeps, filter: DlqFilter): Route[] {
  return deps.routes.filter(
    (r) => (!filter.group || r.group === filter.group) && (!filter.topic || r.input === filter.topic),
  );
}

/** The DLQ records the filter picks that no replay has moved, oldest first per DLQ. */
export async function readDlq(deps: DlqDeps, filter: DlqFilter): Promise<DlqRecord[]> {
  const admin = deps.kafka.admin();
  await admin.connect();
  const existing = new Set(await admin.listTopics().finally(() => admin.disconnect()));
  const found: DlqRecord[] = [];
  // Several processors of one group (a module's) share its DLQ: read each once.
  const routes = [...new Map(routesOf(deps, filter).map((r) => [r.dlqTopic, r])).values()];
  for (const route of routes.filter((r) => existing.has(r.dlqTopic))) {
    const moved = await movedOffsets(deps.db, route.dlqTopic);
    const records: ConsumedRecord[] = [];
    await deps.kafka.readToEnd(await wholeTopic(deps.kafka, route.dlqTopic), (record) => records.push(record));
    for (const record of records) {
      if (moved.has(`${record.partition}/${record.offset}`)) continue;
      const headers = textHeaders(record.headers);
      const entry: DlqRecord = {
        route,
        record,
        key: record.key?.toString() ?? "",
        headers,
        errorClass: headers[HEADER.errorClass] ?? "unknown",
        replayCount: Number(headers[HEADER.replayCount] ?? 0) || 0,
      };
      if (picks(filter, entry)) found.push(entry);
    }
  }
  return found;
}

function picks(filter: DlqFilter, entry: DlqRecord): boolean {
  const { timestamp } = entry.record;
  return (
    (!filter.errorClass || entry.errorClass === filter.errorClass) &&
    (filter.key === undefined || entry.key === filter.key) &&
    (filter.from === undefined || timestamp >= filter.from) &&
    (filter.to === undefined || timestamp <= filter.to)
  );
}

async function movedOffsets(db: pg.Pool, topic: string): Promise<Set<string>> {
  const { rows } = await db.query<{ partition: number; offset: string }>(
    `SELECT "partition", "offset" FROM sluice_dlq_moves WHERE topic = $1`,
    [topic],
  );
  return new Set(rows.map((r) => `${r.partition}/${r.offset}`));
}

export interface DlqSummary {
  group: string;
  topic: string;
  dlq: string;
  errorClass: string;
  count: number;
  oldest: number;
  newest: number;
}

/** Counts by group, original topic and error class, with the oldest and newest record of each. */
export function summarize(records: readonly DlqRecord[]): DlqSummary[] {
  const rows = new Map<string, DlqSummary>();
  for (const { route, record, errorClass } of records) {
    const id = `${route.dlqTopic}\n${errorClass}`;
    const row = rows.get(id) ?? {
      group: route.group,
      topic: route.input,
      dlq: route.dlqTopic,
      errorClass,
      count: 0,
      oldest: record.timestamp,
      newest: record.timestamp,
    };
    row.count++;
    row.oldest = Math.min(row.oldest, record.timestamp);
    row.newest = Math.max(row.newest, record.timestamp);
    rows.set(id, row);
  }
  return [...rows.values()].sort((a, b) => a.group.localeCompare(b.group) || b.count - a.count);
}

/** A DLQ record as `show` prints it: its value decoded with the schema it was written with, and its headers. */
export async function describeRecord(serde: AvroSerde, entry: DlqRecord): Promise<object> {
  const { record } = entry;
  let value: unknown;
  try {
    value = record.value ? (await serde.decode(record.value)).value : null;
  } catch (error) {
    value = { undecodable: (error as Error).message, bytes: record.value?.length ?? 0 };
  }
  return {
    group: entry.route.group,
    dlq: entry.route.dlqTopic,
    partition: record.partition,
    offset: record.offset,
    timestamp: new Date(record.timestamp).toISOString(),
    key: entry.key,
    errorClass: entry.errorClass,
    headers: entry.headers,
    value,
  };
}

export interface ReplayOptions {
  /** Records a second at most. */
  rate: number;
  cap: number;
  dryRun: boolean;
  operator: string;
}

export interface ReplayCounts {
  matched: number;
  /** Sent back to the group: its first retry tier, or its input behind a group filter. */
  replayed: number;
  /** Over the replay cap: sent to the parking topic. */
  parked: number;
  /** Still not readable as the input's current schema (or a stub without its value): left where they are. */
  invalid: number;
}

type Plan = { kind: "replay" | "park" | "invalid"; entry: DlqRecord };

/** What a replay does with each record: re-validated against the input's schema as it is now. */
async function plan(deps: DlqDeps, entries: readonly DlqRecord[], cap: number): Promise<Plan[]> {
  const plans: Plan[] = [];
  for (const entry of entries) {
    const { route, record } = entry;
    const reader = deps.schemas.get(topicByName(route.input, deps.topics)?.valueSchema ?? "")?.type;
    let valid = record.value !== null && entry.headers[HEADER.stub] === undefined;
    if (valid && record.value) {
      valid = await deps.serde.decode(record.value, reader).then(
        () => true,
        (error: unknown) => {
          if (error instanceof DecodeError) return false;
          throw error; // the registry out of reach: no replay on a guess
        },
      );
    }
    if (!valid) plans.push({ kind: "invalid", entry });
    else plans.push({ kind: entry.replayCount >= cap ? "park" : "replay", entry });
  }
  return plans;
}

export const parkingTopic = (dlq: string) => `${dlq}.parked`;

export async function replayDlq(deps: DlqDeps, filter: DlqFilter, options: ReplayOptions): Promise<ReplayCounts> {
  const entries = await readDlq(deps, filter);
  const plans = await plan(deps, entries, options.cap);
  const counts: ReplayCounts = { matched: entries.length, replayed: 0, parked: 0, invalid: 0 };
  for (const { kind } of plans) counts[kind === "replay" ? "replayed" : kind === "park" ? "parked" : "invalid"]++;
  const moving = plans.filter((p) => p.kind === "replay" || p.kind === "park");
  if (options.dryRun || moving.length === 0) return counts;

  const admin = deps.kafka.admin();
  await admin.connect();
  const producer = deps.kafka.producer({ lingerMs: 5 });
  await producer.connect();
  const replayId = randomUUID();
  try {
    await createParkingTopics(admin, moving);
    const batch = Math.max(1, Math.min(100, Math.floor(options.rate / 10)));
    const bucket = new TokenBucket(options.rate, batch, Date.now());
    for (let i = 0; i < moving.length; i += batch) {
      const some = moving.slice(i, i + batch);
      await bucket.acquire(some.length, systemClock);
      await send(producer, some);
      await mark(deps.db, some, replayId);
    }
    await audit(deps, producer, replayId, filter, options, counts);
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  return counts;
}

async function createParkingTopics(admin: Admin, moving: readonly Plan[]): Promise<void> {
  const dlqs = [...new Set(moving.filter((p) => p.kind === "park").map((p) => p.entry.route.dlqTopic))];
  const existing = new Set(await admin.listTopics());
  const missing = dlqs.filter((dlq) => !existing.has(parkingTopic(dlq)));
  if (missing.length === 0) return;
  const described = await admin.describeTopics(missing);
  await admin.createTopics(
    described.map((d) => ({ ...d, name: parkingTopic(d.name), configs: { "retention.ms": "-1" } })),
  );
}

/** Where a plan's copy goes: the parking topic, the group's first retry tier, or its input. */
function destination({ kind, entry: { route } }: Plan): string {
  return kind === "park" ? parkingTopic(route.dlqTopic) : (route.tierTopics[0] ?? route.input);
}

/**
 * The copies, byte for byte with one more replay: in the first tier due at once (attempt 2, as a first retry is);
 * in the input, on the partition it was read from (its key's), for the group alone.
 */
async function send(producer: Producer, plans: readonly Plan[]): Promise<void> {
  const now = String(Date.now());
  const byTopic = new Map<string, OutgoingMessage[]>();
  for (const plan of plans) {
    const { kind, entry } = plan;
    const { route, record } = entry;
    const topic = destination(plan);
    const intoInput = kind === "replay" && topic === route.input;
    const headers = {
      ...entry.headers,
      ...(kind === "replay" && !intoInput ? { [HEADER.attempt]: "2", [HEADER.dueAt]: now } : {}),
      ...(intoInput ? { [HEADER.replayGroup]: route.group } : {}),
      [HEADER.replayCount]: String(entry.replayCount + (kind === "replay" ? 1 : 0)),
    };
    const partition = Number(entry.headers[HEADER.originalPartition]);
    const list = byTopic.get(topic) ?? [];
    list.push({
      key: record.key,
      value: record.value,
      headers: headerList(headers),
      ...(intoInput && Number.isInteger(partition) ? { partition } : {}),
    });
    byTopic.set(topic, list);
  }
  await producer.send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
}

async function mark(db: pg.Pool, plans: readonly Plan[], replayId: string): Promise<void> {
  await db.query(
    `INSERT INTO sluice_dlq_moves (topic, "partition", "offset", replay_id, moved_to)
     SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::text[], $5::text[])
     ON CONFLICT DO NOTHING`,
    [
      plans.map((p) => p.entry.route.dlqTopic),
      plans.map((p) => p.entry.record.partition),
      plans.map((p) => p.entry.record.offset),
      plans.map(() => replayId),
      plans.map(destination),
    ],
  );
}

async function audit(
  deps: DlqDeps,
  producer: Producer,
  auditId: string,
  filter: DlqFilter,
  options: ReplayOptions,
  counts: ReplayCounts,
): Promise<void> {
  const schema = deps.schemas.get(topicByName(AUDIT_TOPIC, deps.topics)?.valueSchema ?? "");
  if (!schema) throw new SluiceError("SCHEMA_MISSING", `no schema for ${AUDIT_TOPIC}`);
  const text = Object.fromEntries(
    Object.entries({ ...filter, rate: options.rate, cap: options.cap })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, k === "from" || k === "to" ? new Date(Number(v)).toISOString() : String(v)]),
  );
  const value = await deps.serde.encode(`${AUDIT_TOPIC}-value`, schema, {
    auditId,
    action: "dlq-replay",
    operator: options.operator,
    at: BigInt(Date.now()),
    filter: text,
    counts: Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, BigInt(v)])),
  });
  const headers = headerList({ ...newEventHeaders(Date.now()), [HEADER.eventId]: auditId });
  await producer.send([{ topic: AUDIT_TOPIC, messages: [{ key: auditId, value, headers }] }]);
}
