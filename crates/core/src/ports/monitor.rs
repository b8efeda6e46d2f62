//! The monitor port: what the endpoint saw, per interval, and its alarms
//! (SQLite written by the local endpoint; CloudWatch on AWS).

use super::Result;
use crate::monitor::{AlarmChange, AlarmRules, LiveSlot, MetricWindow, ServiceSeries};

/// Metric windows, alarm states and history, and the live sample.
pub trait Monitor: Send + Sync {
    /// The endpoints whose metrics this backend keeps.
    fn endpoints(&self) -> Vec<String>;
    /// Windows starting at or after `since` (RFC 3339), oldest first.
    fn metric_windows(&self, since: &str) -> Result<Vec<MetricWindow>>;
    /// Stores finished windows and changed slots of the live sample (what
    /// the endpoint writes each interval), then, when there were windows,
    /// evaluates the alarm rules; returns the alarms' state changes.
    fn record_metrics(
        &self,
        windows: &[MetricWindow],
        sample: &[LiveSlot],
    ) -> Result<Vec<AlarmChange>>;
    /// The alarm rules.
    fn alarm_rules(&self) -> AlarmRules;
    /// Alarm state changes, newest first.
    fn alarm_history(&self) -> Result<Vec<AlarmChange>>;
    /// Records the endpoint keeps as a uniform sample of its traffic.
    fn live_sample_capacity(&self) -> usize;
    /// The live sample, records seen at or after `since` when given.
    fn live_sample(&self, since: Option<&str>) -> Result<Vec<LiveSlot>>;
    /// The platform's metrics around the endpoint since `since`, where the
    /// backend has them (AWS: API Gateway and ECS in CloudWatch); none
    /// locally.
    fn service_metrics(&self, _since: &str) -> Result<Vec<ServiceSeries>> {
        Ok(Vec::new())
    }
}
