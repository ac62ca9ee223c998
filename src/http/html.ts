/**
 * Small pieces the agent's HTML pages share.
 *
 * @module
 */

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A duration in words: `45 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`. */
export function formatDuration(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** A time as RFC 3339 in UTC to the second: `2024-03-01T10:15:00Z`. */
export function utcTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** The hour and minute of a time in UTC: `10:15`. */
export function utcHourMinute(seconds: number): string {
  return new Date(seconds * 1000).toISOString().slice(11, 16);
}

/** A time as {@linkcode utcTime} gives it, kept on one line. */
export function utcTimeHtml(date: Date): string {
  return `<span class="t">${utcTime(date)}</span>`;
}
