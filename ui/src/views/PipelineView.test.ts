import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";

import type { Job, LeaderboardEntry, TrainingOptions, TrainReport } from "../lib/bindings";
import { training } from "../lib/training.svelte";
import { modelVersion, trainingOptions } from "../test/fixtures";
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
  params: {
    kind: "train",
    features_key: "sales/features.parquet",
    group: "default",
    config: { ...trainingOptions().defaults, folds: 3 },
  },
  output: status === "succeeded" ? { bucket: "models", key: "default/v1/model.json" } : null,
  report: null,
  error: null,
});

// The training options are fetched once per app run: a test that needs other
// ones than the fixture's sets them on the shared store too.
const withTrainingOptions = (o: TrainingOptions) => {
  training.options = o;
  mockIpc({
    data_list: () => ({ objects: [], next_token: null }),
    jobs_list: () => ({ jobs: [] }),
    train: () => ({ job_id: "job-000003" }),
    training_options: () => o,
  });
};

const entry = (model: LeaderboardEntry["model"], name: string, auc: number): LeaderboardEntry => {
  const m = (mean: number) => ({ mean, std: 0.01 });
  return {
    model,
    name,
    accuracy: m(0.7),
    auc: m(auc),
    recall: m(0.5),
    precision: m(0.6),
    f1: m(0.55),
    kappa: m(0.3),
    mcc: m(0.31),
    train_seconds: 0.2,
    folds: [],
  };
};

const trainReport = (): TrainReport => {
  const v = modelVersion();
  return {
    version: 1,
    group: "default",
    status: "PendingManualApproval",
    winner: "lr",
    leaderboard: [entry("lr", "Logistic Regression", 0.74), entry("nb", "Naive Bayes", 0.7)],
    holdout: v.holdout,
    leakage: [],
    confusion: { tp: 5, fp: 2, tn: 10, fn_: 3 },
    importance: [],
    rows: { train: 80, test: 20 },
    positives: { train: 40, test: 10 },
    artifact: v.artifact,
    card: v.card,
  };
};

describe("PipelineView", () => {
  it("starts training with the folds and candidates chosen, and lists the job", async () => {
    let status: Job["status"] = "running";
    mockIpc({
      data_list: () => ({ objects: [], next_token: null }),
      jobs_list: () => ({ jobs: [trainJob(status)] }),
      job_show: () => ({
        job: trainJob(status),
        logs: [],
        report: status === "succeeded" ? trainReport() : null,
      }),
      train: () => ({ job_id: "job-000003" }),
      training_options: () => trainingOptions(),
    });
    render(PipelineView);
    await fireEvent.input(screen.getByTestId("train-key"), {
      target: { value: "sales/features.parquet" },
    });
    // The candidates and Rust's defaults arrive with `training_options`.
    await fireEvent.click(await screen.findByTestId("train-candidate-knn"));
    expect((screen.getByTestId("train-folds") as HTMLInputElement).value).toBe("10");
    await fireEvent.input(screen.getByTestId("train-folds"), { target: { value: "3" } });
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

    // The opened job's leaderboard, with the metrics as Rust names them.
    await waitFor(() => expect(screen.getAllByTestId("leaderboard-row")).toHaveLength(2));
    const heads = [...screen.getByTestId("leaderboard").querySelectorAll("th")];
    expect(heads.map((h) => h.textContent?.trim())).toEqual([
      "Model",
      "Accuracy",
      "AUC",
      "Recall",
      "Precision",
      "F1",
      "Kappa",
      "MCC",
      "s/fold",
    ]);
    const nb = screen.getAllByTestId("leaderboard-row")[1];
    expect(nb?.dataset.model).toBe("nb");
    expect(nb?.querySelectorAll("td")[2]?.textContent).toBe("0.700");
  });

  it("offers the candidates and metrics with Rust's titles", async () => {
    mockIpc({
      data_list: () => ({ objects: [], next_token: null }),
      jobs_list: () => ({ jobs: [] }),
      training_options: () => trainingOptions(),
    });
    render(PipelineView);
    const knn = await screen.findByTestId("train-candidate-knn");
    expect(knn.closest("label")?.textContent).toContain("K Neighbors");
    const sort = screen.getByTestId("train-sort") as HTMLSelectElement;
    expect([...sort.options].map((o) => [o.value, o.textContent])).toContainEqual(["auc", "AUC"]);
    expect(sort.value).toBe("accuracy");
  });

  it("sends no SageMaker resources when training runs on this machine", async () => {
    withTrainingOptions({ ...trainingOptions(), sagemaker: null });
    render(PipelineView);
    await screen.findByTestId("train-candidate-knn");
    expect(screen.queryByTestId("train-sagemaker")).toBeNull();
    await fireEvent.input(screen.getByTestId("train-key"), {
      target: { value: "sales/features.parquet" },
    });
    await fireEvent.click(screen.getByTestId("train-start"));

    await waitFor(() => expect(callsOf("train")).toHaveLength(1));
    const args = callsOf("train")[0];
    expect(args).toMatchObject({ featuresKey: "sales/features.parquet" });
    expect(args).not.toHaveProperty("instanceType");
    expect(args).not.toHaveProperty("spot");
    expect(args).not.toHaveProperty("maxRuntimeS");
  });

  it("sends the SageMaker training job's resources chosen", async () => {
    withTrainingOptions({
      ...trainingOptions(),
      sagemaker: { instance_type: "ml.m5.large", spot: false, max_runtime_s: 3600 },
    });
    render(PipelineView);
    const fieldset = await screen.findByTestId("train-sagemaker");
    expect(fieldset.querySelector("legend")?.textContent).toBe("SageMaker training job");
    const instanceType = screen.getByTestId("train-instance-type") as HTMLInputElement;
    const spot = screen.getByTestId("train-spot") as HTMLInputElement;
    const maxRuntime = screen.getByTestId("train-max-runtime") as HTMLInputElement;
    await waitFor(() => expect(instanceType.value).toBe("ml.m5.large"));
    expect(spot.checked).toBe(false);
    expect(maxRuntime.value).toBe("3600");
    expect([maxRuntime.min, maxRuntime.max]).toEqual(["60", "432000"]);
    expect(screen.getByLabelText("Managed spot")).toBe(spot);
    expect(spot.getAttribute("aria-describedby")).toBe("train-spot-hint");

    await fireEvent.input(screen.getByTestId("train-key"), {
      target: { value: "sales/features.parquet" },
    });
    await fireEvent.input(instanceType, { target: { value: " ml.c5.xlarge " } });
    await fireEvent.click(spot);
    await fireEvent.input(maxRuntime, { target: { value: "600" } });
    await fireEvent.click(screen.getByTestId("train-start"));

    await waitFor(() => expect(callsOf("train")).toHaveLength(1));
    expect(callsOf("train")[0]).toMatchObject({
      featuresKey: "sales/features.parquet",
      instanceType: "ml.c5.xlarge",
      spot: true,
      maxRuntimeS: 600,
    });
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
