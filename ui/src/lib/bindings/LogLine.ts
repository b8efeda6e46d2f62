// Mirrors tablero_core::job::LogLine.

/**
 * One line of a job's log.
 */
export type LogLine = { at: string; level: string; message: string };
