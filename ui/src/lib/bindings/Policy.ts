// Mirrors tablero_local::config::Policy.

export type Policy = { four_eyes: boolean; allow_as: boolean };
