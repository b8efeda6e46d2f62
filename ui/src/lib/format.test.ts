import { describe, expect, it } from "vitest";

import { deltaClass, formatBytes, formatDelta, formatDuration, levelClass } from "./format";

describe("format", () => {
  it("writes deltas with their sign", () => {
    expect(formatDelta(0.05)).toBe("+0.050");
    expect(formatDelta(-0.02)).toBe("−0.020");
    expect(formatDelta(0)).toBe("0.000");
    expect(formatDelta(-0.0000001)).toBe("0.000");
    expect(formatDelta(null)).toBe("–");
    expect(deltaClass(0.1)).toBe("up");
    expect(deltaClass(-0.1)).toBe("down");
    expect(deltaClass(null)).toBe("flat");
  });

  it("maps Rust's drift levels to classes", () => {
    expect(levelClass("ok")).toBe("level-ok");
    expect(levelClass("watch")).toBe("level-watch");
    expect(levelClass("drift")).toBe("level-drift");
    expect(levelClass("?")).toBe("level-unknown");
  });

  it("writes sizes and durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(2_599_078)).toBe("2.5 MB");
    expect(formatDuration(42)).toBe("42 s");
    expect(formatDuration(0.42)).toBe("0.4 s");
    expect(formatDuration(3)).toBe("3 s");
    expect(formatDuration(12.7)).toBe("12 s");
    expect(formatDuration(185)).toBe("3 min 05 s");
    expect(formatDuration(7620)).toBe("2 h 07 min");
    expect(formatDuration(null)).toBe("–");
  });
});
