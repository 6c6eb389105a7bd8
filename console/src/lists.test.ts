import { describe, expect, it } from "vitest";

import type { Change } from "./api/types";
import { changeOutcome, MAX_UPLOAD_BODY_BYTES, uploadBodyBytes } from "./lists";

function change(status: Change["status"], action: Change["action"] = "add"): Change {
  return {
    change_id: "c1",
    kind: "list",
    action,
    list: "blocked_cards",
    reason: "compromised",
    status,
    requested_by: "u1",
    requested_at: "2026-12-07T22:00:00Z",
    base_version: null,
    list_version: status === "applied" ? "l-20261207-abc" : null,
    diff: { added: 1, removed: 0 },
  };
}

describe("changeOutcome", () => {
  it("names the list version an applied change made", () => {
    expect(changeOutcome(change("applied"))).toBe("Change applied: list version l-20261207-abc.");
  });

  it("says a change to a suppressing list waits", () => {
    expect(changeOutcome(change("pending"))).toContain("waits for a rule-admin's approval");
  });

  it("names a removal", () => {
    expect(changeOutcome(change("applied", "delete"))).toMatch(/^Removal applied/);
  });
});

describe("uploadBodyBytes", () => {
  it("counts the JSON body, escapes and multi-byte characters included", () => {
    expect(uploadBodyBytes("a\n", "é")).toBe('{"csv":"a\\n","reason":"é"}'.length + 1);
  });

  it("puts a CSV of 1 MiB over the limit once wrapped", () => {
    expect(uploadBodyBytes("x".repeat(MAX_UPLOAD_BODY_BYTES), "r")).toBeGreaterThan(
      MAX_UPLOAD_BODY_BYTES,
    );
  });
});
