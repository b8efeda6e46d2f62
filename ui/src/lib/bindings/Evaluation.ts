// Mirrors tablero_core::train::Evaluation.
import type { Algorithm } from "./Algorithm";
import type { Confusion } from "./Confusion";
import type { Holdout } from "./Holdout";
import type { Importance } from "./Importance";
import type { LeaderboardEntry } from "./LeaderboardEntry";
import type { LeakageFlag } from "./LeakageFlag";
import type { RocPoint } from "./RocPoint";

/**
 * How the candidates compared and how good the winner is.
 */
export type Evaluation = {
  leaderboard: Array<LeaderboardEntry>;
  winner: Algorithm;
  holdout: Holdout;
  roc: Array<RocPoint>;
  confusion: Confusion;
  importance: Array<Importance>;
  leakage: Array<LeakageFlag>;
  /** Rows in the training and test parts. */
  rows: [number, number];
};
