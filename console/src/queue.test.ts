import { describe, expect, it } from "vitest";

import type { AlertSummary } from "./api/types";
import { mergeAlerts } from "./queue";

function alert(id: string, detectedAt: string, status: AlertSummary["status"] = "new") {
  return { alert_id: id, detected_at: detectedAt, status } as AlertSummary;
}

describe("mergeAlerts", () => {
  it("puts a new alert first and updates a shown one in place", () => {
    const shown = [alert("b", "2026-11-30T10:00:00Z"), alert("a", "2026-11-30T09:00:00Z")];
    const fresh = [
      alert("c", "2026-11-30T11:00:00Z"),
      alert("b", "2026-11-30T10:00:00Z", "legitimate"),
    ];
    const merged = mergeAlerts(shown, fresh);
    expect(merged.map((a) => a.alert_id)).toEqual(["c", "b", "a"]);
    expect(merged[1]?.status).toBe("legitimate");
  });

  it("keeps the pages already loaded below a refreshed first page", () => {
    const older = [alert("x", "2026-11-29T00:00:00Z")];
    expect(mergeAlerts(older, [alert("y", "2026-11-30T00:00:00Z")]).map((a) => a.alert_id)).toEqual(
      ["y", "x"],
    );
  });
});
