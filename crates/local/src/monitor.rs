//! Monitoring on SQLite: the per-interval aggregates and the live sample
//! the local endpoint writes, and the alarm rules evaluated over them.

use rusqlite::{params, OptionalExtension};
use tablero_core::monitor::{self, AlarmChange, AlarmRules, AlarmStatus, LiveSlot, MetricWindow};
use tablero_core::ports::{self, Monitor};

use crate::deploy::LOCAL_ENDPOINT;
use crate::error::{Error, Result};
use crate::workspace::Workspace;

impl Workspace {
    /// Evaluates the alarm rules over the last window of metrics and stores
    /// the state changes; returns them.
    pub fn evaluate_alarms(&self) -> Result<Vec<AlarmChange>> {
        let rules = self.config().alarms.clone();
        let since = (chrono::Utc::now() - chrono::Duration::minutes(rules.window_minutes as i64))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        let windows = self.metrics_since(&since)?;
        let deployed = match self.current_deployment()? {
            Some(d) => Some(self.registry_port().card(&d.group, d.version)?),
            None => None,
        };
        let evaluated = monitor::evaluate_alarms(&rules, &windows, deployed.as_ref());
        let mut changes = Vec::new();
        let conn = self.db().conn()?;
        for e in evaluated {
            let (rule, state) = (e.rule, e.state());
            let last: Option<String> = conn
                .query_row(
                    "SELECT state FROM alarms WHERE rule = ?1 ORDER BY seq DESC LIMIT 1",
                    [rule.name()],
                    |r| r.get(0),
                )
                .optional()?;
            if last.as_deref().unwrap_or(AlarmStatus::Ok.name()) != state.name() {
                let change = AlarmChange {
                    rule,
                    state,
                    value: e.value,
                    message: e.message,
                    at: crate::db::now(),
                };
                conn.execute(
                    "INSERT INTO alarms (rule, state, value, message, at) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        change.rule.name(),
                        change.state.name(),
                        change.value,
                        change.message,
                        change.at
                    ],
                )?;
                changes.push(change);
            }
        }
        Ok(changes)
    }

    /// Alarm state changes, newest first.
    pub fn alarms_changed(&self) -> Result<Vec<AlarmChange>> {
        let conn = self.db().conn()?;
        let mut st =
            conn.prepare("SELECT rule, state, value, message, at FROM alarms ORDER BY seq DESC")?;
        let rows = st.query_map([], |r| {
            Ok(AlarmChange {
                rule: crate::db::named(r, 0)?,
                state: crate::db::named(r, 1)?,
                value: r.get(2)?,
                message: r.get(3)?,
                at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Stores one window (written by the endpoint).
    pub fn record_window(&self, w: &MetricWindow) -> Result<()> {
        let score_bins =
            serde_json::to_string(&w.score_bins).map_err(|e| Error::Refused(e.to_string()))?;
        let feature_bins =
            serde_json::to_string(&w.feature_bins).map_err(|e| Error::Refused(e.to_string()))?;
        self.db().conn()?.execute(
            "INSERT INTO metrics (endpoint, group_name, version, window_start, interval_s, requests, errors,
                 p50_ms, p90_ms, p99_ms, predictions, positives, score_bins, feature_bins)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                w.endpoint,
                w.group,
                w.version,
                w.window_start,
                w.interval_s,
                w.requests,
                w.errors,
                w.p50_ms,
                w.p90_ms,
                w.p99_ms,
                w.predictions,
                w.positives,
                score_bins,
                feature_bins
            ],
        )?;
        Ok(())
    }

    /// Windows starting at or after `since` (RFC 3339), oldest first.
    pub fn metrics_since(&self, since: &str) -> Result<Vec<MetricWindow>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare(
            "SELECT endpoint, group_name, version, window_start, interval_s, requests, errors, p50_ms, p90_ms, p99_ms,
                    predictions, positives, score_bins, feature_bins
             FROM metrics WHERE window_start >= ?1 ORDER BY window_start, seq",
        )?;
        let rows = st.query_map([since], |r| {
            let bad = |i: usize| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    "bad bins".into(),
                )
            };
            let score: String = r.get(12)?;
            let features: String = r.get(13)?;
            Ok(MetricWindow {
                endpoint: r.get(0)?,
                group: r.get(1)?,
                version: r.get(2)?,
                window_start: r.get(3)?,
                interval_s: r.get(4)?,
                requests: r.get(5)?,
                errors: r.get(6)?,
                p50_ms: r.get(7)?,
                p90_ms: r.get(8)?,
                p99_ms: r.get(9)?,
                predictions: r.get(10)?,
                positives: r.get(11)?,
                score_bins: serde_json::from_str(&score).map_err(|_| bad(12))?,
                feature_bins: serde_json::from_str(&features).map_err(|_| bad(13))?,
                latency_ms: Vec::new(),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Replaces slots of the endpoint's live sample (reservoir).
    pub fn store_live_sample(&self, endpoint: &str, slots: &[LiveSlot]) -> Result<()> {
        if slots.is_empty() {
            return Ok(());
        }
        self.db().immediate(|conn| {
            let mut st = conn.prepare(
                "INSERT OR REPLACE INTO live_sample (slot, endpoint, record, seen_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for s in slots {
                st.execute(params![s.slot as i64, endpoint, s.record, s.seen_at])?;
            }
            Ok(())
        })
    }

    /// The live sample, records seen at or after `since` when given.
    pub fn sampled(&self, since: Option<&str>) -> Result<Vec<LiveSlot>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare(
            "SELECT slot, record, seen_at FROM live_sample WHERE seen_at >= ?1 ORDER BY slot",
        )?;
        let rows = st.query_map([since.unwrap_or("")], |r| {
            Ok(LiveSlot {
                slot: r.get::<_, i64>(0)? as usize,
                record: r.get(1)?,
                seen_at: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

impl Monitor for Workspace {
    fn endpoints(&self) -> Vec<String> {
        vec![LOCAL_ENDPOINT.to_string()]
    }

    fn metric_windows(&self, since: &str) -> ports::Result<Vec<MetricWindow>> {
        Ok(self.metrics_since(since)?)
    }

    fn record_metrics(
        &self,
        windows: &[MetricWindow],
        sample: &[LiveSlot],
    ) -> ports::Result<Vec<AlarmChange>> {
        self.store_live_sample(LOCAL_ENDPOINT, sample)?;
        for w in windows {
            self.record_window(w)?;
        }
        if windows.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.evaluate_alarms()?)
    }

    fn alarm_rules(&self) -> AlarmRules {
        self.config().alarms.clone()
    }

    fn alarm_history(&self) -> ports::Result<Vec<AlarmChange>> {
        Ok(self.alarms_changed()?)
    }

    fn live_sample_capacity(&self) -> usize {
        self.config().limits.live_sample
    }

    fn live_sample(&self, since: Option<&str>) -> ports::Result<Vec<LiveSlot>> {
        Ok(self.sampled(since)?)
    }
}
