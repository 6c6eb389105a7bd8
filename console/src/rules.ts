// What the Rules page decides without the API: who may decide a change (four eyes), whether a
// change will wait for approval, the backtest's window, where an inline error points.

import type { Change, Rule, RuleDiff, RuleHitCount, RuleProblem } from "./api/types";
import { MAX_PRIORITY, NAME_PATTERN } from "./api/types";
import { isRuleAdmin, type Session } from "./auth/session";

export const EMPTY_RULE: Rule = {
  name: "",
  expression: "",
  outcome: "alert",
  severity: "high",
  priority: 100,
  mode: "shadow",
};

/** Whether this user may approve or reject this change, and if not, why (shown beside the
 * disabled buttons). The API decides again (403): this only keeps the page honest. */
export function decisionRight(
  change: Change,
  session: Session,
): { allowed: true } | { allowed: false; reason: string } {
  if (!isRuleAdmin(session)) {
    return { allowed: false, reason: "only members of the rule-admins group can approve" };
  }
  if (session.sub !== undefined && change.requested_by === session.sub) {
    return { allowed: false, reason: "four eyes: you requested this change" };
  }
  if (change.status !== "pending") return { allowed: false, reason: `already ${change.status}` };
  return { allowed: true };
}

/** As the API decides it: a change waits for a rule-admin when the rule is active before or
 * after it; shadow and disabled drafts, and removing a non-active rule, apply at once. */
export function needsApproval(before: Rule | null, after: Rule | null): boolean {
  return before?.mode === "active" || after?.mode === "active";
}

/** The last `days` whole days up to now, as the backtest's `from` and `to` (RFC 3339). */
export function backtestWindow(days: number, now = new Date()): { from: string; to: string } {
  const to = new Date(now.getTime());
  to.setUTCMilliseconds(0);
  const from = new Date(to.getTime() - days * 86_400_000);
  const iso = (d: Date) => d.toISOString().replace(".000Z", "Z");
  return { from: iso(from), to: iso(to) };
}

/** What is wrong with a draft before the API is asked (its name and priority); the
 * expression is the API's to judge (POST /rules/validate). */
export function draftProblems(rule: Rule): string[] {
  const problems: string[] = [];
  if (!NAME_PATTERN.test(rule.name)) {
    problems.push("name: a lower-case letter, then up to 62 lower-case letters, digits or _");
  }
  if (!Number.isInteger(rule.priority) || rule.priority < 0 || rule.priority > MAX_PRIORITY) {
    problems.push(`priority: a whole number from 0 to ${MAX_PRIORITY.toLocaleString("en-GB")}`);
  }
  if (!rule.expression.trim()) problems.push("expression: empty");
  return problems;
}

/** An error's place in the expression as line and column (1-based), or null. */
export function errorPlace(
  expression: string,
  error: RuleProblem,
): { line: number; column: number } | null {
  const position = error.position;
  if (position === null || position < 0 || position > expression.length) return null;
  const before = expression.slice(0, position).split("\n");
  return { line: before.length, column: (before[before.length - 1]?.length ?? 0) + 1 };
}

/** GET /rules/hits by rule name. */
export function hitsByRule(items: RuleHitCount[]): Map<string, RuleHitCount> {
  return new Map(items.map((item) => [item.rule, item]));
}

/** The fields a change alters, before → after, for the history and the request list. */
export function changedFields(
  before: Rule | null,
  after: Rule | null,
): { field: keyof Rule; before: string; after: string }[] {
  const fields: (keyof Rule)[] = ["expression", "outcome", "severity", "priority", "mode"];
  const text = (rule: Rule | null, field: keyof Rule) =>
    rule === null ? "—" : String(rule[field] ?? "—");
  return fields
    .filter((field) => text(before, field) !== text(after, field))
    .map((field) => ({ field, before: text(before, field), after: text(after, field) }));
}

/** "upsert rule ecom_burst", "add list blocked_cards". */
export function changeTitle(change: Change): string {
  const name = change.kind === "rule" ? change.rule : change.list;
  return `${change.action} ${change.kind} ${name ?? ""}`.trim();
}

/** An actor (a token's `sub`) as the page names it: "you" for the signed-in user. */
export function actorText(actor: string, session: Session | null): string {
  return session?.sub !== undefined && session.sub === actor ? "you" : actor;
}

/** A rule change's before and after (a list change's diff counts entries instead). */
export function ruleDiff(diff: unknown): RuleDiff | null {
  if (!diff || typeof diff !== "object" || !("before" in diff) || !("after" in diff)) return null;
  return diff as RuleDiff;
}
