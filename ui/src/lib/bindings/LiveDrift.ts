// Mirrors tablero_local::monitor::LiveDrift.
import type { FeatureDrift } from "./FeatureDrift";

export type LiveDrift = { live_records: number; features: Array<FeatureDrift> };
