// Run-time configuration, read once from /config.json on the origin that serves the site:
// locally written by local/console/server.py, on AWS put in the Amplify artefact by
// `make package` (infra/package.py).

export interface ConsoleConfig {
  /** Base URL of the API, e.g. "https://abc.execute-api.eu-west-1.amazonaws.com". */
  apiBaseUrl: string;
  /** OAuth2 server: serves /oauth2/authorize and /oauth2/token (Cognito hosted UI domain). */
  authority: string;
  clientId: string;
  /** Where the authorization server sends the browser back; the console's root. */
  redirectUri: string;
  /** Optional: where signing out sends the browser (Cognito's /logout). */
  logoutUri?: string;
  scope?: string;
}

const REQUIRED = ["apiBaseUrl", "authority", "clientId", "redirectUri"] as const;

export function parseConfig(document: unknown): ConsoleConfig {
  if (!document || typeof document !== "object") throw new Error("config.json is not an object");
  const record = document as Record<string, unknown>;
  for (const key of REQUIRED) {
    const value = record[key];
    if (typeof value !== "string" || !value || value.includes("${")) {
      throw new Error(`config.json: ${key} is missing or not filled in`);
    }
  }
  return document as ConsoleConfig;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const response = await fetch("/config.json", { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json: HTTP ${response.status}`);
  return parseConfig(await response.json());
}
