import { describe, expect, it } from "vitest";

import {
  formatDuration,
  formatTime,
  humanName,
  localInput,
  typicalFromReason,
  utcFromInput,
} from "./format";

describe("format", () => {
  it("shows times in UTC to the second", () => {
    expect(formatTime("2026-11-28T12:00:07.180Z")).toBe("2026-11-28 12:00:07 UTC");
  });

  it("scales durations to their unit", () => {
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(600)).toBe("10 min");
    expect(formatDuration(5400)).toBe("1.5 h");
    expect(formatDuration(null)).toBe("—");
  });

  it("reads the typical figure of a reason text", () => {
    expect(typicalFromReason("amount 1,812.50 is high (typical 1,034.20)")).toBe(1034.2);
    expect(typicalFromReason("amount is 8.2× the card's 30-day average (typical 1.0×)")).toBe(1);
    expect(typicalFromReason("new terminal for this card")).toBeNull();
  });

  it("names codes in words", () => {
    expect(humanName("CARD_TXN_COUNT_1H")).toBe("card txn count 1h");
  });

  it("reads a datetime-local input as UTC and back", () => {
    expect(utcFromInput("2026-11-30T09:15")).toBe("2026-11-30T09:15:00Z");
    expect(utcFromInput("")).toBeUndefined();
    expect(localInput("2026-11-30T09:15:00Z")).toBe("2026-11-30T09:15");
  });
});
