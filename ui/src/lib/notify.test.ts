import { describe, expect, it } from "vitest";

import { modelVersion } from "../test/fixtures";
import { keysOf, newSince } from "./notify";
import type { AlarmRule, Notifications } from "./types";

const n = (versions: number[], alarms: AlarmRule[]): Notifications => ({
  pending_approvals: versions.map((version) => modelVersion({ version })),
  firing_alarms: alarms.map((rule) => ({ rule, state: "ALARM", since: "t0", value: 1 })),
});

describe("bell", () => {
  it("announces nothing on the first poll", () => {
    expect(newSince(null, n([1], ["error_rate"]))).toEqual({ approvals: [], alarms: [] });
  });

  it("announces what is new since the last poll", () => {
    const seen = keysOf(n([1], ["error_rate"]));
    const fresh = newSince(seen, n([1, 2], ["error_rate", "feature_drift"]));
    expect(fresh.approvals.map((v) => v.version)).toEqual([2]);
    expect(fresh.alarms.map((a) => a.rule)).toEqual(["feature_drift"]);
  });
});
