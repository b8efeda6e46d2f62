// Mirrors tablero_local::config::Role (serde, snake_case).

export type Role = "analyst" | "ml_lead" | "ops";
