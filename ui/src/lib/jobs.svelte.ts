// The jobs list shared by the Pipeline view and the hand-offs that start
// jobs elsewhere: polled every second while a job is queued or running,
// and updated between polls by `job://progress` events.

import * as api from "./api";
import type { Job, JobProgress } from "./bindings";
import { anyActive, applyProgress, isActive } from "./jobs";

export const POLL_MS = 1000;

class JobsStore {
  jobs = $state.raw<Job[]>([]);
  error = $state<string | null>(null);
  loaded = $state(false);
  /** Wall clock, ticked while jobs run, for the elapsed column. */
  now = $state(Date.now());

  #timer: ReturnType<typeof setTimeout> | null = null;
  #unlisten: (() => void) | null = null;
  #watchers = 0;

  async refresh() {
    try {
      const r = await api.jobsList(100);
      this.jobs = r.jobs;
      this.error = null;
    } catch (e) {
      this.error = api.toApiError(e).message;
    } finally {
      this.loaded = true;
      this.now = Date.now();
      this.#schedule();
    }
  }

  #schedule() {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#watchers > 0 && anyActive(this.jobs)) {
      this.#timer = setTimeout(() => void this.refresh(), POLL_MS);
    }
  }

  #onProgress(e: JobProgress) {
    this.jobs = applyProgress(this.jobs, e);
    // A job that ended (its output and report are in the job document now),
    // or one not listed yet: ask for the list.
    if (!isActive(e.status) || !this.jobs.some((j) => j.id === e.id)) void this.refresh();
  }

  /** Starts watching (a view is showing jobs); returns the function that stops it. */
  watch(): () => void {
    this.#watchers++;
    if (this.#watchers === 1) {
      void api
        .safeListen(() => api.onJobProgress((e) => this.#onProgress(e)))
        .then((un) => {
          if (this.#watchers > 0) this.#unlisten = un;
          else un();
        });
    }
    void this.refresh();
    return () => {
      this.#watchers--;
      if (this.#watchers === 0) {
        if (this.#timer) clearTimeout(this.#timer);
        this.#timer = null;
        this.#unlisten?.();
        this.#unlisten = null;
      }
    };
  }
}

export const jobsStore = new JobsStore();
