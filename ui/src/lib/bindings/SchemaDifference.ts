// Mirrors tablero_core::registry::SchemaDifference.

export type SchemaDifference = { feature: string; per_version: Array<string> };
