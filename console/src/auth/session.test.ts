import { describe, expect, it } from "vitest";

import type { ConsoleConfig } from "../config";
import { base64Url, s256Challenge } from "./pkce";
import {
  authorizeUrl,
  decodeJwtPayload,
  isAnalyst,
  isRuleAdmin,
  sessionFromTokens,
} from "./session";

function jwt(claims: Record<string, unknown>): string {
  const encode = (value: unknown) => base64Url(new TextEncoder().encode(JSON.stringify(value)));
  return `${encode({ alg: "RS256" })}.${encode(claims)}.c2ln`;
}

const config: ConsoleConfig = {
  apiBaseUrl: "http://127.0.0.1:9/api",
  authority: "http://127.0.0.1:9/",
  clientId: "fraud-console-local",
  redirectUri: "http://127.0.0.1:9/",
};

describe("PKCE", () => {
  it("derives the S256 challenge of RFC 7636's example", async () => {
    const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    expect(await s256Challenge(verifier)).toBe("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
  });

  it("asks for a code with the challenge, the client and the redirect", () => {
    const url = new URL(authorizeUrl(config, "st", "ch"));
    expect(url.pathname).toBe("/oauth2/authorize");
    expect(url.searchParams.get("response_type")).toBe("code");
    expect(url.searchParams.get("code_challenge")).toBe("ch");
    expect(url.searchParams.get("code_challenge_method")).toBe("S256");
    expect(url.searchParams.get("client_id")).toBe("fraud-console-local");
    expect(url.searchParams.get("redirect_uri")).toBe("http://127.0.0.1:9/");
    expect(url.searchParams.get("state")).toBe("st");
  });
});

describe("session", () => {
  it("reads the user and the groups from the ID token", () => {
    const token = jwt({ email: "analyst@example.com", "cognito:groups": ["analysts"], exp: 2e9 });
    const session = sessionFromTokens(token, "access", 3600, 1_000_000);
    expect(session.email).toBe("analyst@example.com");
    expect(isAnalyst(session)).toBe(true);
    expect(session.expiresAt).toBe(1_000_000 + 3_600_000);
  });

  it("treats a reader as no analyst", () => {
    const token = jwt({ email: "reader@example.com", "cognito:groups": ["readers"] });
    expect(isAnalyst(sessionFromTokens(token, "access", 60))).toBe(false);
  });

  it("keeps the subject, the actor the API names in a change, and the rule-admins group", () => {
    const groups = ["analysts", "rule-admins"];
    const token = jwt({ email: "admin@example.com", sub: "u-42", "cognito:groups": groups });
    const session = sessionFromTokens(token, "access", 60);
    expect(session.sub).toBe("u-42");
    expect(isRuleAdmin(session)).toBe(true);
  });

  it("decodes base64url payloads with non-ASCII text", () => {
    expect(decodeJwtPayload(jwt({ name: "Zoë" })).name).toBe("Zoë");
  });
});
