import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";

import { monitorView } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import MonitorView from "./MonitorView.svelte";

describe("MonitorView", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("asks monitor for the range picked", async () => {
    mockIpc({ monitor: (a) => monitorView(a.range === "7d" ? 700 : 10) });
    render(MonitorView);
    await waitFor(() => expect(screen.getByTestId("monitor-requests").textContent).toBe("10"));
    expect(callsOf("monitor")).toEqual([{ range: "1h" }]);

    await fireEvent.click(screen.getByTestId("range-24h"));
    await fireEvent.click(screen.getByTestId("range-7d"));
    await waitFor(() => expect(screen.getByTestId("monitor-requests").textContent).toBe("700"));
    expect(callsOf("monitor").map((a) => a.range)).toEqual(["1h", "24h", "7d"]);
    expect(screen.getByTestId("range-7d").getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByTestId("range-1h").getAttribute("aria-pressed")).toBe("false");
  });

  it("shows the four charts, totals and alarms", async () => {
    mockIpc({ monitor: () => monitorView(42) });
    render(MonitorView);
    await waitFor(() => expect(screen.getByTestId("monitor-requests").dataset.value).toBe("42"));
    expect(screen.getByTestId("monitor-errors").textContent).toBe("1");
    for (const c of ["requests", "latency", "score", "drift"]) {
      expect(screen.getByTestId(`chart-${c}`).querySelector("svg")).not.toBeNull();
    }
    expect(screen.getByTestId("alarm-row").dataset.state).toBe("ALARM");
    // Locally there are no gateway or service charts.
    expect(screen.queryByTestId("service-charts")).toBeNull();
  });

  it("shows API Gateway's and the ECS service's charts when the backend has them", async () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg"><text>svc</text></svg>';
    const series = (source: string, metric: string, unit: string) => ({
      source,
      metric,
      stat: "Sum",
      unit,
      points: [["2026-11-29T10:00:00Z", 1] as [string, number]],
    });
    mockIpc({
      monitor: () =>
        monitorView(3, {
          service: [
            series("AWS/ApiGateway", "Count", "requests"),
            series("AWS/ECS", "CPUUtilization", "%"),
          ],
          charts: { requests: svg, latency: svg, score: svg, drift: svg, service: [svg, svg] },
        }),
    });
    render(MonitorView);
    await waitFor(() => expect(screen.getAllByTestId("chart-service")).toHaveLength(2));
    const titles = screen
      .getAllByTestId("chart-service")
      .map((c) => c.closest("figure")?.querySelector("figcaption")?.textContent ?? "");
    expect(titles[0]).toContain("Gateway and service: requests");
    expect(titles[1]).toContain("Gateway and service: %");
    expect(screen.getAllByTestId("chart-service")[0]?.querySelector("svg")).not.toBeNull();
  });

  it("refreshes every 10 s while auto-refresh is on, with the current range", async () => {
    vi.useFakeTimers();
    mockIpc({ monitor: () => monitorView(1) });
    render(MonitorView);
    await vi.advanceTimersByTimeAsync(0);
    await fireEvent.click(screen.getByTestId("range-24h"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(callsOf("monitor").map((a) => a.range)).toEqual(["1h", "24h", "24h"]);

    await fireEvent.click(screen.getByTestId("monitor-autorefresh"));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(callsOf("monitor")).toHaveLength(3);
  });

  it("shows Rust's error inline", async () => {
    mockIpc({
      monitor: () => {
        throw { kind: "not_initialised", message: "no workspace at /tmp/x: run tablero init" };
      },
    });
    render(MonitorView);
    expect((await screen.findByTestId("error-monitor")).textContent).toContain("tablero init");
  });
});
