// Mirrors tablero_core::report::NullFeature.

export type NullFeature = { feature: string; needs: string };
