import { describe, expect, it } from "vitest";

import { modelVersion, trainingOptions } from "../test/fixtures";
import { callsOf, mockIpc } from "../test/ipc";
import { holdoutMetrics, TrainingOptionsStore } from "./training.svelte";

describe("training options", () => {
  it("names algorithms and metrics by their ids until Rust's titles arrive", async () => {
    mockIpc({ training_options: () => trainingOptions() });
    const training = new TrainingOptionsStore();
    expect([training.algorithmTitle("knn"), training.metricTitle("auc")]).toEqual(["knn", "auc"]);
    await training.load();
    expect([training.algorithmTitle("knn"), training.metricTitle("auc")]).toEqual([
      "K Neighbors",
      "AUC",
    ]);
    expect(training.options?.defaults.folds).toBe(10);
  });

  it("asks Rust once", async () => {
    mockIpc({ training_options: () => trainingOptions() });
    const training = new TrainingOptionsStore();
    await Promise.all([training.load(), training.load()]);
    await training.load();
    expect(callsOf("training_options")).toHaveLength(1);
  });

  it("keeps Rust's refusal and asks again on the next load", async () => {
    let up = false;
    mockIpc({
      training_options: () => {
        if (!up) throw { kind: "offline", message: "the backend is not reachable" };
        return trainingOptions();
      },
    });
    const training = new TrainingOptionsStore();
    await training.load();
    expect([training.options, training.error]).toEqual([null, "the backend is not reachable"]);
    expect(training.metricTitle("mcc")).toBe("mcc");
    up = true;
    await training.load();
    expect([training.error, training.metricTitle("mcc")]).toEqual([null, "MCC"]);
    expect(callsOf("training_options")).toHaveLength(2);
  });

  it("lists a holdout's metrics in Rust's order", () => {
    expect(holdoutMetrics(modelVersion().holdout)).toEqual([
      "accuracy",
      "auc",
      "recall",
      "precision",
      "f1",
      "kappa",
      "mcc",
    ]);
  });
});
