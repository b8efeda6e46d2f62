// The training options Rust offers (`training_options`): the candidate
// algorithms and the metrics with their names for people, and the default
// configuration. Fetched once and shared by the views; until they arrive (or
// when they cannot), a title is the raw id.

import * as api from "./api";
import type { Algorithm, Holdout, Metric, TrainingOptions } from "./bindings";

export class TrainingOptionsStore {
  options = $state.raw<TrainingOptions | null>(null);
  error = $state<string | null>(null);

  #pending: Promise<void> | null = null;

  /** Fetches the options once; after a failure, the next call asks again. */
  load(): Promise<void> {
    this.#pending ??= api.trainingOptions().then(
      (o) => {
        this.options = o;
        this.error = null;
      },
      (e: unknown) => {
        this.error = api.toApiError(e).message;
        this.#pending = null;
      },
    );
    return this.#pending;
  }

  /** `lr` → `Logistic Regression`. */
  algorithmTitle(id: Algorithm): string {
    return this.options?.algorithms.find((a) => a.id === id)?.title ?? id;
  }

  /** `auc` → `AUC`. */
  metricTitle(id: Metric): string {
    return this.options?.metrics.find((m) => m.id === id)?.title ?? id;
  }
}

export const training = new TrainingOptionsStore();

/** The metrics a holdout holds (one field per metric), in Rust's order. */
export function holdoutMetrics(h: Holdout): (keyof Holdout & Metric)[] {
  return Object.keys(h) as (keyof Holdout & Metric)[];
}
