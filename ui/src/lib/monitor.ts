// The Monitor view's time ranges and refresh period.

import type { MonitorRange } from "./types";

export const RANGES: readonly MonitorRange[] = ["1h", "24h", "7d"];

/** Auto-refresh period of the Monitor view, ms. */
export const REFRESH_MS = 10_000;
