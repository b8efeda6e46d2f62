//! What the endpoint saw, read through the ports: drift of a version over
//! a time range, a candidate against live traffic before promoting it, the
//! endpoint's charts, the alarms.

use serde::{Deserialize, Serialize};
use tablero_core::charts::Chart;
use tablero_core::monitor::{
    self, AlarmChange, AlarmRules, AlarmState, FeatureDrift, LiveDrift, PromotionDiff,
};
use tablero_core::ports::{Backend, Result};

/// PSI per feature and of the score over the windows since `since` of
/// `group` version `version`, against its model card's baseline. Largest
/// first.
pub fn drift_since(
    backend: &Backend,
    group: &str,
    version: u32,
    since: &str,
) -> Result<Vec<FeatureDrift>> {
    let card = backend.registry.card(group, version)?;
    let windows = backend.monitor.metric_windows(since)?;
    Ok(monitor::drift(&card, &windows))
}

/// PSI of each feature of `group` version `version` between its training
/// data and the live sample since `since`.
pub fn live_drift(backend: &Backend, group: &str, version: u32, since: &str) -> Result<LiveDrift> {
    let card = backend.registry.card(group, version)?;
    let records: Vec<serde_json::Map<String, serde_json::Value>> = backend
        .monitor
        .live_sample(Some(since))?
        .into_iter()
        .filter_map(|s| serde_json::from_str(&s.record).ok())
        .collect();
    Ok(monitor::live_drift(&card, &records))
}

/// What promoting `version` would change: metric deltas against the
/// deployed version and drift between the candidate's training data and
/// the live sample since `since` (RFC 3339). Reads only.
pub fn promotion_diff(
    backend: &Backend,
    group: &str,
    version: u32,
    since: &str,
) -> Result<PromotionDiff> {
    let registry = &backend.registry;
    let candidate = registry.version(group, version)?;
    let production = match backend.deployer.deployed()? {
        Some(d) => Some(registry.version(&d.group, d.version)?),
        None => None,
    };
    let candidate_card = registry.card(group, version)?;
    let production_card = match &production {
        Some(p) => Some(registry.card(&p.group, p.version)?),
        None => None,
    };
    Ok(PromotionDiff {
        candidate,
        production,
        deltas: monitor::metric_deltas(&candidate_card, production_card.as_ref()),
        drift: live_drift(backend, group, version, since)?,
        since: since.to_string(),
    })
}

/// The endpoint's charts over the windows since `since`: requests and
/// errors, latency percentiles, and for the version served last the score
/// distribution live vs training and the drift heatmap. Names are file
/// stems: `requests`, `latency`, `score`, `drift`.
pub fn endpoint_charts(backend: &Backend, since: &str) -> Result<Vec<(String, Chart)>> {
    let windows = backend.monitor.metric_windows(since)?;
    let card = match windows.last() {
        Some(w) => Some(backend.registry.card(&w.group, w.version)?),
        None => None,
    };
    Ok(monitor::endpoint_charts(&windows, card.as_ref()))
}

/// The alarms: each rule's state, the history of changes, the rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alarms {
    /// Each rule's current state.
    pub alarms: Vec<AlarmState>,
    /// State changes, newest first.
    pub history: Vec<AlarmChange>,
    /// The rules.
    pub rules: AlarmRules,
}

/// The alarms' states, history and rules.
pub fn alarms(backend: &Backend) -> Result<Alarms> {
    let history = backend.monitor.alarm_history()?;
    Ok(Alarms {
        alarms: monitor::alarm_states(&history),
        history,
        rules: backend.monitor.alarm_rules(),
    })
}
