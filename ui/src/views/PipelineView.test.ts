import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import type { Job } from "../lib/bindings";
import { callsOf, mockIpc } from "../test/ipc";
import PipelineView from "./PipelineView.svelte";

const trainJob = (status: Job["status"]): Job => ({
  id: "job-000003",
  kind: "train",
  status,
  actor: "ana",
  created_at: "2026-11-27T23:18:21Z",
  started_at: "2026-11-27T23:18:22Z",
  finished_at: status === "succeeded" ? "2026-11-27T23:18:40Z" : null,
  progress: status === "succeeded" ? 1 : 0.4,
  phase: "fold 2 of 3",
  input: { bucket: "clean", key: "sales/features.parquet" },
  params: {},
  output: status === "succeeded" ? { bucket: "models", key: "default/v1/model.json" } : null,
  report: null,
  error: null,
});

describe("PipelineView", () => {
  it("starts training with the folds and candidates chosen, and lists the job", async () => {
    let status: Job["status"] = "running";
    mockIpc({
      data_list: () => ({ objects: [], next_token: null }),
      jobs_list: () => ({ jobs: [trainJob(status)] }),
      job_show: () => ({ job: trainJob(status), logs: [], report: null }),
      train: () => ({ job_id: "job-000003" }),
    });
    render(PipelineView);
    await fireEvent.input(screen.getByTestId("train-key"), {
      target: { value: "sales/features.parquet" },
    });
    await fireEvent.input(screen.getByTestId("train-folds"), { target: { value: "3" } });
    await fireEvent.click(screen.getByTestId("train-candidate-knn"));
    await fireEvent.click(screen.getByTestId("train-start"));

    await waitFor(() => expect(callsOf("train")).toHaveLength(1));
    expect(callsOf("train")[0]).toEqual({
      featuresKey: "sales/features.parquet",
      sort: "accuracy",
      folds: 3,
      candidates: ["lr", "tree", "forest", "gbm", "nb", "et"],
    });

    const row = await screen.findByTestId("job-row");
    expect(row.dataset.kind).toBe("train");
    expect(row.dataset.status).toBe("running");
    expect(screen.getByTestId("job-cancel")).toBeTruthy();

    // Polled every second while running.
    status = "succeeded";
    await waitFor(() => expect(screen.getByTestId("job-row").dataset.status).toBe("succeeded"), {
      timeout: 3000,
    });
    expect(screen.getByTestId("job-row").dataset.output).toBe("default/v1/model.json");
  });

  it("shows a refusal next to the form", async () => {
    mockIpc({
      data_list: () => ({ objects: [], next_token: null }),
      jobs_list: () => ({ jobs: [] }),
      etl_clean: () => {
        throw { kind: "not_found", message: "raw/nope.csv does not exist" };
      },
    });
    render(PipelineView);
    await fireEvent.input(screen.getByTestId("clean-key"), { target: { value: "nope.csv" } });
    await fireEvent.click(screen.getByTestId("clean-start"));
    expect((await screen.findByTestId("error-clean")).textContent).toBe(
      "raw/nope.csv does not exist",
    );
  });
});
