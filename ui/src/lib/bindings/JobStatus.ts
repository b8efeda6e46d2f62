// Mirrors tablero_core::job::JobStatus (serde, lowercase).

export type JobStatus = "queued" | "running" | "succeeded" | "failed" | "cancelled";
