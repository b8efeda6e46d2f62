// Presentation helpers: how numbers, sizes, times and levels read on screen.
// They format what Rust sent; they compute nothing about the data. Names
// Rust gives (algorithm and metric titles) come from `training.svelte.ts`.

import type { ApprovalStatus, Scalar } from "./bindings";

export function formatBytes(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** An RFC 3339 time in the local time zone, `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, "0");
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
  );
}

/** A duration in seconds as `42 s`, `3 min 05 s`, `2 h 07 min`, `3 d 4 h`. */
export function formatDuration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "–";
  // A sub-second job is not "0 s": short spans keep a tenth.
  if (seconds < 10 && !Number.isInteger(seconds)) return `${seconds.toFixed(1)} s`;
  const s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, "0")} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${String(m % 60).padStart(2, "0")} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

/** Seconds between two RFC 3339 times (the second defaults to `now`). */
export function secondsBetween(from: string | null, to: string | null, now: number): number | null {
  if (!from) return null;
  const a = Date.parse(from);
  const b = to ? Date.parse(to) : now;
  if (Number.isNaN(a) || Number.isNaN(b)) return null;
  return Math.max(0, (b - a) / 1000);
}

export function formatMetric(v: number | null | undefined, digits = 3): string {
  if (v == null || !Number.isFinite(v)) return "–";
  return v.toFixed(digits);
}

/** A delta with its sign: `+0.012`, `−0.004`, `0.000`. */
export function formatDelta(v: number | null | undefined, digits = 3): string {
  if (v == null || !Number.isFinite(v)) return "–";
  const abs = Math.abs(v).toFixed(digits);
  if (Number(abs) === 0) return (0).toFixed(digits);
  return v > 0 ? `+${abs}` : `−${abs}`;
}

/** CSS class of a delta's direction. */
export function deltaClass(v: number | null | undefined): "up" | "down" | "flat" {
  if (v == null || !Number.isFinite(v) || v === 0) return "flat";
  return v > 0 ? "up" : "down";
}

/** CSS class of a drift level as Rust named it (`ok`, `watch`, `drift`). */
export function levelClass(
  level: string,
): "level-ok" | "level-watch" | "level-drift" | "level-unknown" {
  switch (level.toLowerCase()) {
    case "ok":
      return "level-ok";
    case "watch":
      return "level-watch";
    case "drift":
      return "level-drift";
    default:
      return "level-unknown";
  }
}

export function formatCount(n: number | null | undefined): string {
  if (n == null || !Number.isFinite(n)) return "–";
  return n.toLocaleString("en-US");
}

export function formatPercent(fraction: number | null | undefined): string {
  if (fraction == null || !Number.isFinite(fraction)) return "–";
  return `${Math.round(Math.min(1, Math.max(0, fraction)) * 100)}%`;
}

/** A column summary's value (min/max are numbers or text, a datetime as RFC 3339 text). */
export function formatValue(v: Scalar | null | undefined): string {
  if (v == null) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : v.toFixed(3);
  return v;
}

const STATUS_LABEL: Record<ApprovalStatus, string> = {
  PendingManualApproval: "Pending approval",
  Approved: "Approved",
  Rejected: "Rejected",
};

export function statusLabel(status: ApprovalStatus): string {
  return STATUS_LABEL[status];
}
