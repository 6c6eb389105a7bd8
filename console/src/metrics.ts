// GET /metrics lists only the hours and days that had alerts: the charts want every one.

export interface Count {
  label: string;
  count: number;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** Every hour from the first listed to the last, zero where none was listed. */
export function everyHour(points: { hour: string; count: number }[]): Count[] {
  if (points.length === 0) return [];
  const counts = new Map(points.map((p) => [new Date(p.hour).getTime(), p.count]));
  const times = [...counts.keys()].sort((a, b) => a - b);
  const out: Count[] = [];
  for (let t = times[0]!; t <= times[times.length - 1]!; t += HOUR_MS) {
    out.push({ label: new Date(t).toISOString().slice(0, 13) + ":00Z", count: counts.get(t) ?? 0 });
  }
  return out;
}

/** Every day of the period (the last `days` UTC days up to `today`), zero where none was listed. */
export function everyDay(
  points: { day: string; count: number }[],
  days: number,
  today: Date = new Date(),
): Count[] {
  const counts = new Map(points.map((p) => [p.day, p.count]));
  const last = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const out: Count[] = [];
  for (let i = days - 1; i >= 0; i -= 1) {
    const day = new Date(last - i * DAY_MS).toISOString().slice(0, 10);
    out.push({ label: day, count: counts.get(day) ?? 0 });
  }
  return out;
}
