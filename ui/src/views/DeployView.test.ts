import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it } from "vitest";

import { app } from "../lib/app.svelte";
import type {
  DeployAction,
  DeployHistory,
  Deployment,
  Rollout,
  RolloutPhase,
} from "../lib/bindings";
import { emit, listeners } from "../test/events";
import { endpointState, modelVersion, promotionDiffView, session } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import DeployView from "./DeployView.svelte";

function deployment(
  seq: number,
  version: number,
  from: number | null,
  action: DeployAction = "promote",
): Deployment {
  return {
    seq,
    endpoint: "local",
    group: "default",
    version,
    from_version: from,
    action,
    actor: "olga",
    at: "2026-11-28T03:05:47.000Z",
  };
}

/** A command's reply that the test gives when it chooses. */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function rollout(d: Deployment, phase: RolloutPhase, detail?: string): Rollout {
  const serving = phase === "completed" ? { group: d.group, version: d.version } : null;
  return detail === undefined
    ? { deployment: d, phase, serving }
    : { deployment: d, phase, serving, detail };
}

/** An endpoint on ECS: two tasks wanted, behind API Gateway. */
const AWS_ENDPOINT = endpointState({
  running: true,
  url: "https://abc123.execute-api.eu-west-1.amazonaws.com",
  serving: { group: "default", version: 2 },
  tasks: { running: 1, desired: 2, pending: 1 },
  revision: "serve:7",
});

/** Versions 3, 2 and 1 approved, 2 deployed after 1; everything allowed. */
function deployed(over: Record<string, (args: Record<string, unknown>) => unknown> = {}) {
  const history = [deployment(2, 2, 1), deployment(1, 1, null)];
  mockIpc({
    endpoint_status: () => AWS_ENDPOINT,
    models_list: () => ({
      group: "default",
      versions: [3, 2, 1].map((version) => modelVersion({ version, status: "Approved" })),
    }),
    model_actions: () => ({
      approve: { allowed: false, reason: null },
      reject: { allowed: false, reason: null },
      promote: { allowed: true, reason: null },
    }),
    deploy_history: (): DeployHistory => ({
      deployments: history,
      rollback: { allowed: true, reason: null },
    }),
    promotion_diff: () => promotionDiffView(),
    ...over,
  });
}

const button = (testid: string, version?: number) =>
  (version == null
    ? screen.getByTestId(testid)
    : screen
        .getAllByTestId(testid)
        .find((b) => b.dataset.version === String(version))) as HTMLButtonElement;

afterEach(() => {
  app.session = null;
});

describe("DeployView", () => {
  it("disables rollback with Rust's reason after the first deployment", async () => {
    mockIpc({
      endpoint_status: () => endpointState(),
      models_list: () => ({
        group: "default",
        versions: [modelVersion({ version: 1, status: "Approved" })],
      }),
      model_actions: () => ({
        approve: { allowed: false, reason: "already Approved" },
        reject: { allowed: false, reason: "already Approved" },
        promote: { allowed: false, reason: "default version 1 is already deployed" },
      }),
      deploy_history: (): DeployHistory => ({
        deployments: [deployment(1, 1, null)],
        rollback: {
          allowed: false,
          reason: "default version 1 is the first deployment; there is nothing to roll back to",
        },
      }),
    });
    render(DeployView);

    const reason = await screen.findByTestId("rollback-reason");
    expect(reason.textContent).toContain("nothing to roll back to");
    expect((screen.getByTestId("rollback-button") as HTMLButtonElement).disabled).toBe(true);
    const promoteReason = await screen.findByTestId("promote-reason");
    expect(promoteReason.textContent).toBe("default version 1 is already deployed");
    expect((screen.getByTestId("promote-button") as HTMLButtonElement).disabled).toBe(true);
  });

  it("rolls back to the previous deployment and reloads what may be promoted", async () => {
    let history = [deployment(2, 2, 1), deployment(1, 1, null)];
    mockIpc({
      endpoint_status: () => endpointState(),
      models_list: () => ({
        group: "default",
        versions: [
          modelVersion({ version: 2, status: "Approved" }),
          modelVersion({ version: 1, status: "Approved" }),
        ],
      }),
      model_actions: () => ({
        approve: { allowed: false, reason: null },
        reject: { allowed: false, reason: null },
        promote: { allowed: true, reason: null },
      }),
      deploy_history: (): DeployHistory => ({
        deployments: history,
        rollback: { allowed: true, reason: null },
      }),
      deploy_rollback: () => {
        history = [deployment(3, 1, 2, "rollback"), ...history];
        return history[0];
      },
    });
    render(DeployView);

    const button = await screen.findByTestId("rollback-button");
    await waitFor(() => expect((button as HTMLButtonElement).disabled).toBe(false));
    expect(screen.queryByTestId("rollback-reason")).toBeNull();
    await fireEvent.click(button);
    const dialog = await screen.findByRole("dialog");
    expect(dialog.textContent).toContain("Return from v2 to v1");
    await fireEvent.click(screen.getByTestId("rollback-confirm"));

    await waitFor(() => expect(screen.getAllByTestId("history-entry")).toHaveLength(3));
    expect(screen.getAllByTestId("history-entry")[0]?.textContent).toContain("Rolled back");
    expect(callsOf("deploy_rollback")).toHaveLength(1);
    // Promotion rights were asked again after the deployment changed.
    expect(callsOf("models_list").length).toBeGreaterThanOrEqual(2);
  });

  it("follows a promotion's ECS rollout event by event, and keeps how it ended", async () => {
    app.session = session({ backend: "aws" });
    const reply = deferred<Deployment>();
    deployed({ deploy_promote: () => reply.promise });
    render(DeployView);

    await waitFor(() => expect(button("promote-button", 3).disabled).toBe(false));
    await fireEvent.click(button("promote-button", 3));
    await screen.findAllByTestId("delta-row");
    await fireEvent.click(screen.getByTestId("promote-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));
    expect(callsOf("deploy_promote")).toEqual([{ version: 3, group: "default" }]);
    // Nothing else may be deployed meanwhile.
    expect(button("promote-button", 3).disabled).toBe(true);
    expect(button("rollback-button").disabled).toBe(true);

    const v3 = deployment(3, 3, 2);
    const steps: [RolloutPhase, string, string][] = [
      ["recorded", "Recorded", "registered serve:8"],
      [
        "in_progress",
        "Rolling out",
        "0 of 2 tasks running serve:8 (2 pending); ECS: ECS deployment in progress",
      ],
      [
        "in_progress",
        "Rolling out",
        "1 of 2 tasks running serve:8 (1 pending); ECS: ECS deployment in progress",
      ],
      ["completed", "Completed", "2 of 2 tasks running serve:8"],
    ];
    for (const [phase, words, detail] of steps) {
      emit("deploy://rollout", rollout(v3, phase, detail));
      const box = await screen.findByTestId("rollout-progress");
      await waitFor(() => expect(box.dataset.phase).toBe(phase));
      expect(within(box).getByTestId("rollout-phase").textContent).toBe(words);
      expect(within(box).getByTestId("rollout-detail").textContent).toBe(detail);
      expect(box.textContent).toContain("Promotion default v2 → v3");
      expect(within(box).queryByRole("progressbar") !== null).toBe(phase !== "completed");
    }

    reply.resolve(v3);
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    // The view keeps the outcome, no longer listening.
    const box = screen.getByTestId("rollout-progress");
    expect(box.dataset.phase).toBe("completed");
    expect(box.classList.contains("completed")).toBe(true);
    expect(within(box).queryByRole("progressbar")).toBeNull();
    expect(listeners("deploy://rollout")).toBe(0);
    await waitFor(() => expect(button("rollback-button").disabled).toBe(false));

    await fireEvent.click(screen.getByTestId("rollout-dismiss"));
    expect(screen.queryByTestId("rollout-progress")).toBeNull();
  });

  it("shows a failed rollback with ECS's reason until dismissed", async () => {
    app.session = session({ backend: "aws" });
    const failure =
      "ECS could not roll out default/v1: tasks failed to start; the deployment circuit breaker rolled the service back to serve:7 (default/v2)";
    const reply = deferred<Deployment>();
    deployed({ deploy_rollback: () => reply.promise });
    render(DeployView);

    await waitFor(() => expect(button("rollback-button").disabled).toBe(false));
    await fireEvent.click(button("rollback-button"));
    expect((await screen.findByRole("dialog")).textContent).toContain("takes minutes");
    await fireEvent.click(screen.getByTestId("rollback-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));

    const back = deployment(3, 1, 2, "rollback");
    emit("deploy://rollout", rollout(back, "recorded", "registered serve:8"));
    emit("deploy://rollout", rollout(back, "in_progress", "0 of 2 tasks running serve:8"));
    emit("deploy://rollout", rollout(back, "failed", failure));
    reply.reject({ kind: "refused", message: failure });

    const alert = await screen.findByTestId("error-rollback");
    expect(alert.textContent).toBe(failure);
    const box = screen.getByTestId("rollout-progress");
    expect(box.dataset.phase).toBe("failed");
    expect(box.classList.contains("failed")).toBe(true);
    expect(box.textContent).toContain("Rollback default v2 → v1");
    expect(within(box).getByTestId("rollout-phase").textContent).toBe("Failed");
    expect(within(box).getByTestId("rollout-detail").textContent).toBe(failure);
    expect(within(box).queryByRole("progressbar")).toBeNull();
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(0));

    // Closing the dialog leaves the failure in the view.
    await fireEvent.click(within(screen.getByRole("dialog")).getByText("Cancel"));
    expect(screen.queryByRole("dialog")).toBeNull();
    const kept = screen.getByTestId("rollout-progress");
    expect(kept.dataset.phase).toBe("failed");
    expect(within(kept).getByTestId("rollout-detail").textContent).toBe(failure);
    await fireEvent.click(screen.getByTestId("rollout-dismiss"));
    expect(screen.queryByTestId("rollout-progress")).toBeNull();
  });

  it("keeps the last phase and shows the refusal when no failed event came", async () => {
    app.session = session({ backend: "aws" });
    const timeout =
      "the rollout of default/v1 did not finish within 600 s (1 of 2 tasks running serve:8); ECS goes on: follow it with `tablero endpoint status`";
    const reply = deferred<Deployment>();
    deployed({ deploy_rollback: () => reply.promise });
    render(DeployView);

    await waitFor(() => expect(button("rollback-button").disabled).toBe(false));
    await fireEvent.click(button("rollback-button"));
    await fireEvent.click(await screen.findByTestId("rollback-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));
    const back = deployment(3, 1, 2, "rollback");
    emit("deploy://rollout", rollout(back, "in_progress", "1 of 2 tasks running serve:8"));
    await screen.findByTestId("rollout-progress");
    reply.reject({ kind: "refused", message: timeout });

    expect((await screen.findByTestId("error-rollback")).textContent).toBe(timeout);
    await fireEvent.click(within(screen.getByRole("dialog")).getByText("Cancel"));
    const box = screen.getByTestId("rollout-progress");
    // Rust said it was rolling out, not that it failed.
    expect(box.dataset.phase).toBe("in_progress");
    expect(box.classList.contains("refused")).toBe(true);
    expect(within(box).getByTestId("rollout-error").textContent).toBe(timeout);
    expect(within(box).queryByRole("progressbar")).toBeNull();
  });

  it("stops the spinner when the backend returns before the rollout ends", async () => {
    app.session = session({ backend: "aws" });
    const reply = deferred<Deployment>();
    deployed({ deploy_promote: () => reply.promise });
    render(DeployView);

    await waitFor(() => expect(button("promote-button", 3).disabled).toBe(false));
    await fireEvent.click(button("promote-button", 3));
    await screen.findAllByTestId("delta-row");
    await fireEvent.click(screen.getByTestId("promote-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));
    const v3 = deployment(3, 3, 2);
    emit("deploy://rollout", rollout(v3, "in_progress", "0 of 2 tasks running serve:8"));
    expect(
      within(await screen.findByTestId("rollout-progress")).getByRole("progressbar"),
    ).toBeTruthy();
    reply.resolve(v3);

    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const box = screen.getByTestId("rollout-progress");
    expect(box.dataset.phase).toBe("in_progress");
    expect(within(box).queryByRole("progressbar")).toBeNull();
    expect(within(box).getByTestId("rollout-unfollowed").textContent).toContain("under way");
    expect(within(box).queryByTestId("rollout-error")).toBeNull();
  });

  it("stops listening when the view goes while a rollback runs", async () => {
    deployed({ deploy_rollback: () => deferred<Deployment>().promise });
    const { unmount } = render(DeployView);
    await waitFor(() => expect(button("rollback-button").disabled).toBe(false));
    await fireEvent.click(button("rollback-button"));
    await fireEvent.click(await screen.findByTestId("rollback-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));
    unmount();
    expect(listeners("deploy://rollout")).toBe(0);
  });

  it("says a local promotion waits for the endpoint when it is not running", async () => {
    const reply = deferred<Deployment>();
    deployed({ endpoint_status: () => endpointState(), deploy_promote: () => reply.promise });
    render(DeployView);

    await waitFor(() => expect(button("promote-button", 3).disabled).toBe(false));
    await fireEvent.click(button("promote-button", 3));
    await screen.findAllByTestId("delta-row");
    await fireEvent.click(screen.getByTestId("promote-confirm"));
    await waitFor(() => expect(listeners("deploy://rollout")).toBe(1));
    const v3 = deployment(3, 3, 2);
    emit("deploy://rollout", rollout(v3, "recorded"));
    emit("deploy://rollout", rollout(v3, "not_running"));
    reply.resolve(v3);

    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const box = screen.getByTestId("rollout-progress");
    expect(box.dataset.phase).toBe("not_running");
    expect(within(box).getByTestId("rollout-phase").textContent).toBe(
      "Not running — will serve when started",
    );
    expect(within(box).queryByTestId("rollout-detail")).toBeNull();
  });

  it("shows ECS's tasks and revision on AWS, and the pid and port locally", async () => {
    app.session = session({ backend: "aws" });
    deployed({ endpoint_status: () => ({ ...AWS_ENDPOINT, running: false }) });
    const { unmount } = render(DeployView);

    expect((await screen.findByTestId("endpoint-tasks")).textContent?.trim()).toBe(
      "1 of 2 tasks running, 1 pending",
    );
    expect(screen.getByTestId("endpoint-revision").textContent).toBe("serve:7");
    expect(screen.queryByText("PID")).toBeNull();
    expect(screen.getByText(/runs on ECS Fargate behind API Gateway/)).toBeTruthy();
    expect(screen.queryByText(/127\.0\.0\.1/)).toBeNull();
    // The port is the local endpoint's: ECS starts without one.
    expect(screen.queryByTestId("endpoint-port")).toBeNull();
    unmount();

    app.session = session({ backend: "local" });
    deployed({
      endpoint_status: () =>
        endpointState({ running: true, url: "http://127.0.0.1:8080", pid: 4242 }),
    });
    render(DeployView);
    await waitFor(() => expect(screen.getByText("4242")).toBeTruthy());
    expect(screen.queryByTestId("endpoint-tasks")).toBeNull();
    expect(screen.queryByTestId("endpoint-revision")).toBeNull();
    expect(screen.getByText(/serves the deployed version on 127\.0\.0\.1/)).toBeTruthy();
  });

  it("counts tasks without pending ones, and asks ECS to start without a port", async () => {
    app.session = session({ backend: "aws" });
    let running = false;
    deployed({
      endpoint_status: () =>
        running
          ? { ...AWS_ENDPOINT, tasks: { running: 2, desired: 2, pending: 0 } }
          : { ...AWS_ENDPOINT, running: false, tasks: { running: 0, desired: 0, pending: 0 } },
      endpoint_start: () => {
        running = true;
        return { ...AWS_ENDPOINT, tasks: { running: 2, desired: 2, pending: 0 } };
      },
    });
    render(DeployView);

    expect((await screen.findByTestId("endpoint-tasks")).textContent?.trim()).toBe(
      "0 of 0 tasks running",
    );
    await fireEvent.click(screen.getByTestId("endpoint-start"));
    await waitFor(() =>
      expect(screen.getByTestId("endpoint-tasks").textContent?.trim()).toBe("2 of 2 tasks running"),
    );
    expect(callsOf("endpoint_start")[0]?.port).toBeUndefined();
  });
});
