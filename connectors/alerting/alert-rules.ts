/**
 * The alerting rules at work: `alert-rules` reads logs.app and `alert-rules-checks` reads the rules' timers
 * (alerts.checks, scheduled through the delay tiers). Each record's effect on the rules' state (PostgreSQL,
 * alert_rule_state) is made once, in the ledger's transaction (ctx.once keyed by its event id), and remembered
 * with the alerts and checks it raised; those are sent in the record's Kafka transaction (exactly-once). If that
 * transaction aborts after the state committed, the redelivered record finds its result remembered and sends
 * the same alerts, with the same ids, in the next one. So a restart neither forgets a firing alert nor fires it
 * twice.
 */
import path from "node:path";
import type pg from "pg";
import { HEADER, type Processor, type RuntimeContext, transactionOf } from "../../runtime/index.ts";
import type { Alert } from "../../schemas/types.generated.ts";
import { defineProcessor } from "../define.ts";
import { type Evaluation, onCheck, onEvent, type RaisedAlert, type RuleState } from "./evaluation.ts";
import { type AlertRule, keyOf } from "./rules.ts";

/** The SQL migrations of the rules' state table. */
export const ALERTING_MIGRATIONS = path.join(import.meta.dirname, "migrations");

/** What one record raised: remembered by the ledger (JSON), sent after. */
interface Raised {
  alerts: RaisedAlert[];
  checks: { rule: string; key: string; at: number }[];
}

export interface AlertRulesOptions {
  /** Default: alert-rules, and alert-rules-checks for the timers. */
  name?: string;
  /** A topic of `LogEvent` values to read instead of logs.app. */
  input?: string;
}

export function alertRuleProcessors(rules: readonly AlertRule[], options: AlertRulesOptions = {}): Processor[] {
  const name = options.name ?? "alert-rules";
  const byName = new Map(rules.map((rule) => [rule.name, rule]));
  const onLogs = defineProcessor({
    name,
    input: "logs.app",
    outputs: ["alerts", "alerts.checks"],
    delivery: "exactly-once",
    ledger: "postgres",
    async handler({ value: event, headers }, ctx) {
      const matching = rules.filter((rule) => rule.match(event));
      if (matching.length === 0) return;
      const eventId = headers[HEADER.eventId] ?? "";
      const raised = await ctx.once(`rules:${eventId}`, async (scope) => {
        const db = transactionOf(scope);
        const out: Raised = { alerts: [], checks: [] };
        for (const rule of matching) {
          const key = keyOf(rule, event);
          const state = await loadState(db, rule.name, key);
          const evaluation = onEvent(rule, key, state, Number(event.timestamp), eventId, ctx.clock.now());
          await record(db, rule, key, evaluation, out);
        }
        return out;
      });
      await emit(ctx, byName, raised);
    },
  });
  const onChecks = defineProcessor({
    name: `${name}-checks`,
    input: "alerts.checks",
    outputs: ["alerts", "alerts.checks"],
    delivery: "exactly-once",
    ledger: "postgres",
    async handler({ value: check, headers }, ctx) {
      const rule = byName.get(check.rule);
      if (!rule) return; // another deployment's rule: its own checks processor looks at it
      const raised = await ctx.once(`check:${headers[HEADER.eventId] ?? ""}`, async (scope) => {
        const db = transactionOf(scope);
        const out: Raised = { alerts: [], checks: [] };
        const state = await loadState(db, rule.name, check.key);
        await record(db, rule, check.key, onCheck(rule, check.key, state, Number(check.dueAt), ctx.clock.now()), out);
        return out;
      });
      await emit(ctx, byName, raised);
    },
  });
  return [options.input ? { ...onLogs, input: options.input } : onLogs, onChecks];
}

async function loadState(db: pg.ClientBase, rule: string, key: string): Promise<RuleState> {
  const { rows } = await db.query<{ state: RuleState }>(
    "SELECT state FROM alert_rule_state WHERE rule = $1 AND key = $2 FOR UPDATE",
    [rule, key],
  );
  return rows[0]?.state ?? {};
}

async function record(db: pg.ClientBase, rule: AlertRule, key: string, evaluation: Evaluation, out: Raised) {
  await db.query(
    `INSERT INTO alert_rule_state (rule, key, state) VALUES ($1, $2, $3)
     ON CONFLICT (rule, key) DO UPDATE SET state = EXCLUDED.state, updated_at = now()`,
    [rule.name, key, JSON.stringify(evaluation.state)],
  );
  out.alerts.push(...evaluation.alerts);
  if (evaluation.checkAt !== undefined) out.checks.push({ rule: rule.name, key, at: evaluation.checkAt });
}

async function emit(ctx: RuntimeContext, rules: ReadonlyMap<string, AlertRule>, raised: Raised | undefined) {
  for (const alert of raised?.alerts ?? []) {
    const rule = rules.get(alert.rule);
    if (rule) await ctx.send("alerts", alert.alertId, alertOf(rule, alert));
  }
  for (const { rule, key, at } of raised?.checks ?? []) {
    const checkId = `${rule}/${key}`;
    await ctx.schedule("alerts.checks", checkId, { checkId, rule, key, dueAt: BigInt(at) }, { at });
  }
}

function alertOf(rule: AlertRule, raised: RaisedAlert): Alert {
  const prefix = { firing: "", reminder: "still: ", resolved: "resolved: " }[raised.status];
  return {
    alertId: raised.alertId,
    severity: raised.status === "resolved" ? "INFO" : rule.severity,
    source: raised.key,
    summary: `${prefix}${rule.summary(raised.key)}`,
    details: { rule: rule.name, status: raised.status, since: new Date(raised.since).toISOString() },
    raisedAt: BigInt(raised.raisedAt),
  };
}
