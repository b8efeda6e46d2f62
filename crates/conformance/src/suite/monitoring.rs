//! The monitor: metric windows, drift against the model card, alarms and
//! the live sample, written as the endpoint writes them and read back.

use std::collections::BTreeMap;

use tablero_core::monitor::{self, LiveSlot, MetricWindow};
use tablero_core::train::model::ModelCard;
use tablero_core::train::models::Algorithm;

use super::{ago, features, train, Harness, Persona};

/// A window of `requests` on `card`'s version whose values all fall in the
/// last bin of every baseline (drifted) or spread as the baseline is.
pub fn window(endpoint: &str, card: &ModelCard, start: String, drifted: bool) -> MetricWindow {
    let n = 200u64;
    let counts = |bins: usize, proportions: &[f64]| -> Vec<u64> {
        if drifted {
            let mut c = vec![0; bins];
            c[bins - 1] = n;
            c
        } else {
            (0..bins)
                .map(|i| (proportions.get(i).copied().unwrap_or(0.0) * n as f64).round() as u64)
                .collect()
        }
    };
    let proportions = |b: &tablero_core::train::model::FeatureBaseline| match b {
        tablero_core::train::model::FeatureBaseline::Numeric { proportions, .. }
        | tablero_core::train::model::FeatureBaseline::Categorical { proportions, .. } => {
            proportions.clone()
        }
    };
    MetricWindow {
        endpoint: endpoint.to_string(),
        group: card.group.clone(),
        version: card.version,
        window_start: start,
        interval_s: 60.0,
        requests: 20,
        errors: 0,
        p50_ms: Some(0.5),
        p90_ms: Some(0.9),
        p99_ms: Some(2.0),
        predictions: n,
        positives: n / 2,
        score_bins: counts(
            card.baseline.score.counted_bins(),
            &proportions(&card.baseline.score),
        ),
        feature_bins: card
            .baseline
            .features
            .iter()
            .map(|b| {
                (
                    b.name().to_string(),
                    counts(b.counted_bins(), &proportions(b)),
                )
            })
            .collect::<BTreeMap<_, _>>(),
        latency_ms: Vec::new(),
    }
}

/// `n` slots of a live sample, seen at `seen_at`.
pub fn live_sample(n: usize, seen_at: &str) -> Vec<LiveSlot> {
    (0..n)
        .map(|i| LiveSlot {
            slot: i,
            record: format!("{{\"Recency\": {}}}", 10 * i),
            seen_at: seen_at.to_string(),
        })
        .collect()
}

/// Windows and live records written as the endpoint writes them read back
/// whole; drift computed from them flags the drifted features; the alarm
/// rule fires once (a state change, in the history, newest first) and the
/// alarm states say so.
pub fn metric_windows_drift_and_alarms_round_trip(h: &dyn Harness) {
    let trainer = h.backend(Persona::Trainer);
    let features_key = features(&trainer);
    let v1 = train(&trainer, &features_key, Algorithm::Lr);
    tablero_app::models::approve(&h.backend(Persona::Approver), "default", v1, "ok", false)
        .expect("approve");
    let ops = h.backend(Persona::Ops);
    tablero_app::deploy::promote(&ops, "default", v1, &|_| {}).expect("promote");
    let card = ops.registry.card("default", v1).expect("card");
    let endpoint = ops
        .monitor
        .endpoints()
        .into_iter()
        .next()
        .expect("an endpoint");
    assert!(ops.monitor.live_sample_capacity() > 0);
    let rules = ops.monitor.alarm_rules();
    assert!(rules.feature_psi > 0.0 && rules.window_minutes > 0);

    // Nothing written: nothing read, nothing evaluated.
    let since = ago(600);
    assert!(ops
        .monitor
        .metric_windows(&since)
        .expect("windows")
        .is_empty());
    assert!(ops
        .monitor
        .record_metrics(&[], &[])
        .expect("record")
        .is_empty());

    let calm = window(&endpoint, &card, ago(120), false);
    let drifted = window(&endpoint, &card, ago(60), true);
    let sample = live_sample(3, &ago(30));
    let changes = ops
        .monitor
        .record_metrics(&[calm.clone(), drifted.clone()], &sample)
        .expect("record");
    let fired: Vec<&str> = changes.iter().map(|c| c.rule.name()).collect();
    assert_eq!(fired, ["feature_drift"], "{changes:?}");
    assert_eq!(changes[0].state.name(), "ALARM");
    assert!(changes[0].value.is_some_and(|v| v >= rules.feature_psi));

    let read = ops.monitor.metric_windows(&since).expect("windows");
    assert_eq!(read, [calm.clone(), drifted.clone()]);
    let later = ops.monitor.metric_windows(&ago(90)).expect("windows");
    assert_eq!(later, [drifted], "windows before `since` are left out");

    let calm_drift = monitor::drift(&card, &[calm]);
    assert!(calm_drift.iter().all(|f| f.psi < 0.1), "{calm_drift:?}");
    let drift = monitor::drift(&card, &read);
    assert!(
        drift[0].psi >= 0.25 && drift[0].level.name() == "drift",
        "{drift:?}"
    );

    let history = ops.monitor.alarm_history().expect("history");
    assert_eq!(history.first(), changes.first());
    let states = monitor::alarm_states(&history);
    let state = |rule: &str| {
        states
            .iter()
            .find(|s| s.rule.name() == rule)
            .map(|s| s.state.name())
    };
    assert_eq!(state("feature_drift"), Some("ALARM"));
    assert_eq!(state("error_rate"), Some("OK"));
    assert_eq!(state("latency_p99"), Some("OK"));
    // The same state again is not a change.
    let again = ops
        .monitor
        .record_metrics(&[window(&endpoint, &card, ago(10), true)], &[])
        .expect("record");
    assert!(again.is_empty(), "{again:?}");

    let live = ops.monitor.live_sample(None).expect("sample");
    assert_eq!(live, sample);
    assert!(ops
        .monitor
        .live_sample(Some(&ago(-3600)))
        .expect("sample")
        .is_empty());
}
