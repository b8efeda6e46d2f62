import { render, screen, waitFor } from "@testing-library/svelte";
import { beforeEach, describe, expect, it } from "vitest";

import * as api from "../lib/api";
import { app } from "../lib/app.svelte";
import { connection } from "../lib/connection.svelte";
import { session } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import ErrorAlert from "./ErrorAlert.svelte";
import Header from "./Header.svelte";

const UNREACHABLE =
  "AWS is unreachable: s3:ListObjectsV2 acme-raw: dispatch failure: connection refused (https://s3.eu-west-1.amazonaws.com)";

/** A backend whose AWS side is down until `up` says otherwise. */
function backend() {
  const state = { up: false };
  mockIpc({
    notifications: () => ({ pending_approvals: [], firing_alarms: [] }),
    data_list: () => {
      if (!state.up) throw { kind: "offline", message: UNREACHABLE };
      return { objects: [], next_token: null };
    },
    model_approve: () => {
      throw { kind: "permission", message: "al cannot approve: it needs the ml_lead role" };
    },
  });
  return state;
}

beforeEach(() => {
  connection.reached();
  app.session = session({ workspace: "/ws" });
});

describe("Header", () => {
  it("tags the AWS backend, and names the local one", async () => {
    mockIpc({ notifications: () => ({ pending_approvals: [], firing_alarms: [] }) });
    app.session = session({ workspace: "/ws", backend: "aws" });
    const { unmount } = render(Header);
    expect(screen.getByTestId("backend-kind").textContent).toBe("AWS");
    expect(screen.queryByTestId("header-backend")).toBeNull();
    unmount();

    app.session = session({ workspace: "/ws", backend: "local" });
    render(Header);
    expect(screen.getByTestId("header-backend").textContent).toBe("local");
    expect(screen.queryByTestId("backend-kind")).toBeNull();
  });

  it("shows one AWS unreachable badge after an offline refusal, until a command succeeds", async () => {
    const aws = backend();
    render(Header);
    await waitFor(() => expect(callsOf("notifications")).toHaveLength(1));
    expect(screen.queryByTestId("offline")).toBeNull();

    await expect(api.dataList("raw")).rejects.toMatchObject({ kind: "offline" });
    await expect(api.dataList("clean")).rejects.toMatchObject({ kind: "offline" });
    const badges = await screen.findAllByTestId("offline");
    expect(badges).toHaveLength(1);
    expect(badges[0]?.getAttribute("role")).toBe("status");
    expect(badges[0]?.getAttribute("title")).toBe(UNREACHABLE);
    expect(badges[0]?.textContent).toContain("AWS unreachable");

    // Another kind of refusal says nothing about reachability.
    await expect(api.modelApprove({ version: 1, comment: "ok" })).rejects.toMatchObject({
      kind: "permission",
    });
    expect(screen.getByTestId("offline")).toBeTruthy();

    aws.up = true;
    await api.dataList("raw");
    await waitFor(() => expect(screen.queryByTestId("offline")).toBeNull());
    expect(connection.offline).toBeNull();
  });
});

describe("ErrorAlert while AWS is unreachable", () => {
  it("points at the header instead of repeating the message, and shows it again once back", async () => {
    const aws = backend();
    let error = "";
    await api.dataList("raw").catch((e: unknown) => (error = api.toApiError(e).message));
    expect(error).toBe(UNREACHABLE);

    const { rerender } = render(ErrorAlert, { area: "data", error });
    const alert = screen.getByTestId("error-data");
    expect(alert.textContent?.trim()).toBe("AWS unreachable: see the header.");
    expect(alert.dataset.offline).toBe("true");
    expect(alert.getAttribute("title")).toBe(UNREACHABLE);

    // Any other error is shown in Rust's words.
    await rerender({ area: "data", error: "no object raw/x.csv" });
    expect(screen.getByTestId("error-data").textContent?.trim()).toBe("no object raw/x.csv");

    // Back online, a view that still holds the refusal shows it in full.
    await rerender({ area: "data", error });
    aws.up = true;
    await api.dataList("raw");
    await waitFor(() => expect(screen.getByTestId("error-data").textContent?.trim()).toBe(error));
    expect(screen.getByTestId("error-data").dataset.offline).toBeUndefined();
  });
});
