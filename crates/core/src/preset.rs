//! The two presets of the pipeline stages (a leaf module: it depends on
//! nothing else in the crate).

/// Which flavour of a stage to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    /// Tablero's own: canonical columns, features without leakage.
    Standard,
    /// Reproduces the existing Python pipeline exactly, flaws included.
    Parity,
}

impl Preset {
    /// `standard` or `parity`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Standard => "standard",
            Preset::Parity => "parity",
        }
    }

    /// Parses `standard` / `parity`.
    pub fn from_name(s: &str) -> Option<Preset> {
        match s {
            "standard" => Some(Preset::Standard),
            "parity" => Some(Preset::Parity),
            _ => None,
        }
    }
}
