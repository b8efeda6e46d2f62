// Mirrors tablero_core::ingest::Encoding.

export type Encoding = "utf-8" | "latin-1";
