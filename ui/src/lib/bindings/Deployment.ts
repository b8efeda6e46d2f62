// Mirrors tablero_local::deploy::Deployment.

/**
 * One promotion or rollback.
 */
export type Deployment = {
  seq: number;
  endpoint: string;
  group: string;
  version: number;
  from_version: number | null;
  /** `promote` or `rollback`. */
  action: string;
  actor: string;
  at: string;
};
