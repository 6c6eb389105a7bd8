// What the Lists page says without the API: what a change did, and whether an upload fits
// the API's body limit (1 MiB for a bulk upload, the contract of issue 24).

import type { Change } from "./api/types";

export const MAX_UPLOAD_BODY_BYTES = 1 << 20;

/** The bytes of the JSON body that carries this CSV (what the API's limit counts). */
export function uploadBodyBytes(csv: string, reason: string): number {
  return new TextEncoder().encode(JSON.stringify({ csv, reason })).length;
}

/** One sentence on what a list change did. */
export function changeOutcome(change: Change): string {
  const removal = change.action === "remove" || change.action === "delete";
  const what = removal ? "Removal" : "Change";
  if (change.status === "applied") {
    return `${what} applied${change.list_version ? `: list version ${change.list_version}` : ""}.`;
  }
  if (change.status === "pending") {
    return `${what} requested: it waits for a rule-admin's approval (the list suppresses alerts).`;
  }
  return `${what} ${change.status}.`;
}
