import { describe, expect, it } from "vitest";

import type { Change, Rule } from "./api/types";
import type { Session } from "./auth/session";
import {
  actorText,
  backtestWindow,
  changeTitle,
  changedFields,
  decisionRight,
  draftProblems,
  EMPTY_RULE,
  errorPlace,
  needsApproval,
  ruleDiff,
} from "./rules";

const rule: Rule = {
  name: "ecom_burst",
  expression: "channel == 'ecom' && amount > 300.0",
  outcome: "alert",
  severity: "high",
  priority: 10,
  mode: "active",
};

function change(requestedBy: string, status: Change["status"] = "pending"): Change {
  return {
    change_id: "c1",
    kind: "rule",
    action: "upsert",
    rule: rule.name,
    reason: "new attack",
    status,
    requested_by: requestedBy,
    requested_at: "2026-12-07T22:00:00Z",
    base_version: null,
    diff: { before: null, after: rule },
  };
}

function session(sub: string, groups: string[]): Session {
  return { idToken: "", accessToken: "", expiresAt: 0, email: `${sub}@x`, sub, groups };
}

describe("decisionRight (four eyes)", () => {
  it("lets a rule-admin decide another analyst's change", () => {
    expect(decisionRight(change("a"), session("b", ["analysts", "rule-admins"]))).toEqual({
      allowed: true,
    });
  });

  it("refuses the requester, even a rule-admin, and says why", () => {
    const right = decisionRight(change("b"), session("b", ["analysts", "rule-admins"]));
    expect(right).toEqual({ allowed: false, reason: "four eyes: you requested this change" });
  });

  it("refuses an analyst outside rule-admins", () => {
    const right = decisionRight(change("a"), session("b", ["analysts"]));
    expect(right.allowed).toBe(false);
  });

  it("refuses a change already decided", () => {
    const right = decisionRight(change("a", "applied"), session("b", ["rule-admins"]));
    expect(right).toEqual({ allowed: false, reason: "already applied" });
  });
});

describe("needsApproval", () => {
  it("waits when the rule is or becomes active", () => {
    expect(needsApproval(null, rule)).toBe(true);
    expect(needsApproval(rule, { ...rule, mode: "disabled" })).toBe(true);
  });

  it("applies shadow and disabled drafts at once", () => {
    const shadow = { ...rule, mode: "shadow" as const };
    expect(needsApproval(null, shadow)).toBe(false);
    expect(needsApproval(shadow, { ...rule, mode: "disabled" })).toBe(false);
    expect(needsApproval(shadow, null)).toBe(false);
  });
});

describe("backtestWindow", () => {
  it("ends now and starts the given days before, in RFC 3339 UTC", () => {
    const now = new Date("2026-12-07T22:30:15.250Z");
    expect(backtestWindow(7, now)).toEqual({
      from: "2026-11-30T22:30:15Z",
      to: "2026-12-07T22:30:15Z",
    });
  });
});

describe("draftProblems", () => {
  it("finds nothing wrong with a good draft", () => {
    expect(draftProblems(rule)).toEqual([]);
  });

  it("names a bad name, a bad priority and an empty expression", () => {
    const problems = draftProblems({ ...EMPTY_RULE, name: "Bad-Name", priority: -1 });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["name", "priority", "expression"]);
  });
});

describe("errorPlace", () => {
  it("turns an offset into a line and a column", () => {
    const expression = "amount > 1\n&& nope > 2";
    expect(errorPlace(expression, { message: "unknown", position: 14 })).toEqual({
      line: 2,
      column: 4,
    });
  });

  it("has no place without a position or outside the text", () => {
    expect(errorPlace("a", { message: "x", position: null })).toBeNull();
    expect(errorPlace("a", { message: "x", position: 5 })).toBeNull();
  });
});

describe("changeTitle", () => {
  it("names the action, the kind and the rule or list", () => {
    expect(changeTitle(change("a"))).toBe("upsert rule ecom_burst");
    expect(changeTitle({ ...change("a"), kind: "list", rule: null, list: "blocked" })).toBe(
      "upsert list blocked",
    );
  });
});

describe("actorText", () => {
  it("calls the signed-in user you and anyone else by their subject", () => {
    const me = session("u-1", ["analysts"]);
    expect(actorText("u-1", me)).toBe("you");
    expect(actorText("u-2", me)).toBe("u-2");
  });
});

describe("ruleDiff", () => {
  it("keeps a rule's before and after and drops a list's counts", () => {
    expect(ruleDiff({ before: null, after: rule })).toEqual({ before: null, after: rule });
    expect(ruleDiff({ added: 3, removed: 0 })).toBeNull();
  });
});

describe("changedFields", () => {
  it("lists only what the change alters", () => {
    expect(changedFields(rule, { ...rule, mode: "shadow", priority: 20 })).toEqual([
      { field: "priority", before: "10", after: "20" },
      { field: "mode", before: "active", after: "shadow" },
    ]);
  });

  it("shows a new rule as from nothing", () => {
    expect(changedFields(null, rule)).toHaveLength(5);
  });
});
