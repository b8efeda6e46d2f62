// The Monitor view's time ranges and refresh period.

import type { TimeRange } from "./types";

// Keyed by the generated `TimeRange`, so a range Rust adds fails to compile
// until the view offers it.
const OFFERED: Record<TimeRange, true> = { "1h": true, "24h": true, "7d": true };

/** The ranges, shortest first. */
export const RANGES: readonly TimeRange[] = Object.keys(OFFERED) as TimeRange[];

/** Auto-refresh period of the Monitor view, ms. */
export const REFRESH_MS = 10_000;
