// Mirrors tablero_core::report::CountryTier.

export type CountryTier = {
  country: string;
  rows: number;
  tier: number;
  region: string;
  kept: boolean;
};
