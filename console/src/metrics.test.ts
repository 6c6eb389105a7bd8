import { describe, expect, it } from "vitest";

import { everyDay, everyHour } from "./metrics";

describe("everyHour", () => {
  it("fills the hours without alerts with zeros", () => {
    const hours = everyHour([
      { hour: "2026-11-30T09:00:00Z", count: 2 },
      { hour: "2026-11-30T12:00:00Z", count: 1 },
    ]);
    expect(hours.map((h) => h.count)).toEqual([2, 0, 0, 1]);
    expect(hours[1]?.label).toBe("2026-11-30T10:00Z");
  });

  it("is empty without alerts", () => {
    expect(everyHour([])).toEqual([]);
  });
});

describe("everyDay", () => {
  it("covers the whole period up to today", () => {
    const days = everyDay([{ day: "2026-11-29", count: 4 }], 3, new Date("2026-11-30T08:00:00Z"));
    expect(days).toEqual([
      { label: "2026-11-28", count: 0 },
      { label: "2026-11-29", count: 4 },
      { label: "2026-11-30", count: 0 },
    ]);
  });
});
