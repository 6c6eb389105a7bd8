import { describe, expect, it } from "vitest";

import { alertsQuery, entriesQuery, errorMessage } from "./client";

describe("alertsQuery", () => {
  it("leaves out empty filters and keeps the cursor", () => {
    const query = alertsQuery(
      { status: "new", severity: undefined, card_id: "", min_score: 0.5, reason_code: "AMOUNT" },
      "abc==",
      20,
    );
    expect(new URLSearchParams(query)).toEqual(
      new URLSearchParams({
        status: "new",
        min_score: "0.5",
        reason_code: "AMOUNT",
        limit: "20",
        cursor: "abc==",
      }),
    );
  });
});

describe("errorMessage", () => {
  it("uses the API's message", () => {
    expect(errorMessage(403, { statusCode: 403, message: "analysts only" })).toBe("analysts only");
  });

  it("names the fields of a validation error list", () => {
    expect(errorMessage(422, { detail: [{ loc: ["body", "label"], msg: "bad label" }] })).toBe(
      "body.label: bad label",
    );
  });

  it("falls back to the status", () => {
    expect(errorMessage(502, null)).toBe("HTTP 502");
  });
});

describe("entriesQuery", () => {
  it("sends the prefix, the page size and the cursor, and no empty prefix", () => {
    expect(entriesQuery("card_00", "next==", 20)).toBe("q=card_00&limit=20&cursor=next%3D%3D");
    expect(entriesQuery("", null)).toBe("limit=50");
  });
});
