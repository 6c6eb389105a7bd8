// Sign-in with the OAuth2 authorization-code flow and PKCE, against the development issuer
// locally and Cognito's hosted UI on AWS (both serve /oauth2/authorize and /oauth2/token).
// The tokens live in sessionStorage: gone when the tab closes.

import type { ConsoleConfig } from "../config";
import { randomToken, s256Challenge } from "./pkce";

const SESSION_KEY = "fraud-console.session";
const PENDING_KEY = "fraud-console.pending-sign-in";
export const ANALYSTS_GROUP = "analysts";
export const RULE_ADMINS_GROUP = "rule-admins";

export interface Session {
  idToken: string;
  accessToken: string;
  expiresAt: number; // epoch milliseconds
  email: string;
  /** The token's `sub`: the API names the actor of a change by it (four eyes). */
  sub?: string;
  groups: string[];
}

interface PendingSignIn {
  state: string;
  verifier: string;
  returnTo: string;
}

export function decodeJwtPayload(token: string): Record<string, unknown> {
  const part = token.split(".")[1];
  if (!part) throw new Error("token is not a JWT");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
}

export function sessionFromTokens(
  idToken: string,
  accessToken: string,
  expiresInS: number,
  now = Date.now(),
): Session {
  const claims = decodeJwtPayload(idToken);
  const groups = claims["cognito:groups"];
  const email = claims.email ?? claims["cognito:username"] ?? claims.sub ?? "unknown user";
  const exp = typeof claims.exp === "number" ? claims.exp * 1000 : Infinity;
  return {
    idToken,
    accessToken,
    expiresAt: Math.min(now + expiresInS * 1000, exp),
    email: String(email),
    ...(typeof claims.sub === "string" ? { sub: claims.sub } : {}),
    groups: Array.isArray(groups) ? groups.map(String) : [],
  };
}

export function isAnalyst(session: Session): boolean {
  return session.groups.includes(ANALYSTS_GROUP);
}

/** rule-admins approve or reject rule and list changes (never their own). */
export function isRuleAdmin(session: Session): boolean {
  return session.groups.includes(RULE_ADMINS_GROUP);
}

export function currentSession(now = Date.now()): Session | null {
  const raw = sessionStorage.getItem(SESSION_KEY);
  if (!raw) return null;
  try {
    const session = JSON.parse(raw) as Session;
    if (session.expiresAt > now + 10_000) return session;
  } catch {
    // a damaged entry is the same as none
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

export function authorizeUrl(config: ConsoleConfig, state: string, challenge: string): string {
  const params = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scope ?? "openid email profile",
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  });
  return `${config.authority.replace(/\/+$/, "")}/oauth2/authorize?${params.toString()}`;
}

/** Send the browser to the authorization server; it comes back to redirectUri. */
export async function startSignIn(config: ConsoleConfig, returnTo: string): Promise<void> {
  const pending: PendingSignIn = { state: randomToken(16), verifier: randomToken(48), returnTo };
  sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
  window.location.assign(
    authorizeUrl(config, pending.state, await s256Challenge(pending.verifier)),
  );
}

export function isSignInCallback(url: URL): boolean {
  return (
    url.searchParams.has("state") && (url.searchParams.has("code") || url.searchParams.has("error"))
  );
}

/** Finish a sign-in at redirectUri: check state, trade the code for tokens. */
export async function completeSignIn(
  config: ConsoleConfig,
  url: URL,
): Promise<{ session: Session; returnTo: string }> {
  const raw = sessionStorage.getItem(PENDING_KEY);
  sessionStorage.removeItem(PENDING_KEY);
  const pending = raw ? (JSON.parse(raw) as PendingSignIn) : null;
  const error = url.searchParams.get("error");
  if (error) {
    throw new Error(`sign-in refused: ${url.searchParams.get("error_description") ?? error}`);
  }
  if (!pending || pending.state !== url.searchParams.get("state")) {
    throw new Error("sign-in answer does not match a sign-in started here: sign in again");
  }
  const response = await fetch(`${config.authority.replace(/\/+$/, "")}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code: url.searchParams.get("code") ?? "",
      code_verifier: pending.verifier,
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
    }),
  });
  if (!response.ok) {
    throw new Error(`token exchange failed: HTTP ${response.status} ${await response.text()}`);
  }
  const tokens = (await response.json()) as {
    id_token: string;
    access_token: string;
    expires_in: number;
  };
  const session = sessionFromTokens(tokens.id_token, tokens.access_token, tokens.expires_in);
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return { session, returnTo: pending.returnTo || "/" };
}

/** Drop the tokens here (the API refused them, e.g. signed by a key it no longer has). */
export function forgetSession(): void {
  sessionStorage.removeItem(SESSION_KEY);
}

export function signOut(config: ConsoleConfig): void {
  forgetSession();
  if (config.logoutUri) {
    const params = new URLSearchParams({
      client_id: config.clientId,
      logout_uri: config.redirectUri,
    });
    window.location.assign(`${config.logoutUri}?${params.toString()}`);
  }
}
