//! The monitor on CloudWatch: the endpoint's windows from its EMF lines in
//! CloudWatch Logs (per-feature drift from their bins), latency
//! percentiles from CloudWatch metrics (GetMetricData over the `Latency`
//! distribution), alarm states from CloudWatch alarms (DescribeAlarms),
//! and the live sample from the models bucket.
//!
//! [`CloudWatchMonitor::publish`] does with EMF lines what CloudWatch Logs
//! does with the lines the awslogs driver sends: checks each against the
//! EMF specification, puts the metrics it declares (PutMetricData) and
//! keeps the line (PutLogEvents). `record_metrics` publishes that way, for
//! an endpoint that does not run under the awslogs driver.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, StandardUnit, StateValue,
};
use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use tablero_core::emf;
use tablero_core::monitor::{
    AlarmChange, AlarmRule, AlarmRules, AlarmStatus, LiveSlot, MetricWindow, ServiceSeries,
};
use tablero_core::ports::{BackendError, Monitor, ObjectStore, Result};
use tablero_core::store::{Bucket, ObjectKey};

use crate::config::EndpointConfig;
use crate::error::{fail, parts};
use crate::runtime::block_on;

/// The CloudWatch alarm name of a rule: `<prefix>-feature-drift`, …
pub fn alarm_name(prefix: &str, rule: AlarmRule) -> String {
    format!("{prefix}-{}", rule.name().replace('_', "-"))
}

/// The monitor over CloudWatch.
pub struct CloudWatchMonitor {
    cloudwatch: aws_sdk_cloudwatch::Client,
    logs: aws_sdk_cloudwatchlogs::Client,
    config: EndpointConfig,
    rules: AlarmRules,
    store: Arc<dyn ObjectStore>,
    capacity: usize,
    stream: String,
}

impl CloudWatchMonitor {
    /// The monitor of `config`'s endpoint; `rules` are the ones the
    /// stack's alarms are built from; the live sample is kept in `store`'s
    /// models bucket; published lines go to the log stream `stream`.
    pub fn new(
        cloudwatch: aws_sdk_cloudwatch::Client,
        logs: aws_sdk_cloudwatchlogs::Client,
        config: EndpointConfig,
        rules: AlarmRules,
        store: Arc<dyn ObjectStore>,
        capacity: usize,
        stream: String,
    ) -> CloudWatchMonitor {
        CloudWatchMonitor {
            cloudwatch,
            logs,
            config,
            rules,
            store,
            capacity,
            stream,
        }
    }

    /// What CloudWatch Logs does with EMF lines: each is checked against
    /// the specification (a line that breaks it is refused, naming how,
    /// and nothing of it is put), its metrics are put and the line kept.
    pub fn publish(&self, lines: &[String]) -> Result<()> {
        let mut docs = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let doc = emf::parse(line).map_err(|e| {
                BackendError::refused(format!("line {} is not an EMF document: {e}", i + 1))
            })?;
            docs.push((line.clone(), doc));
        }
        if docs.is_empty() {
            return Ok(());
        }
        let cw = self.cloudwatch.clone();
        let logs = self.logs.clone();
        let (group, stream) = (self.config.log_group.clone(), self.stream.clone());
        block_on(async move {
            for (_, doc) in &docs {
                for d in &doc.directives {
                    for set in &d.dimensions {
                        let dims: Vec<Dimension> = set
                            .iter()
                            .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                            .collect();
                        let data: Vec<MetricDatum> = d
                            .metrics
                            .iter()
                            .map(|m| {
                                MetricDatum::builder()
                                    .metric_name(&m.name)
                                    .set_dimensions(Some(dims.clone()))
                                    .timestamp(DateTime::from_millis(doc.timestamp_ms))
                                    .unit(StandardUnit::from(m.unit.as_str()))
                                    .set_values(Some(m.values.clone()))
                                    .set_counts(Some(m.counts.clone()))
                                    .build()
                            })
                            .collect();
                        let what = format!("put the {} metrics", d.namespace);
                        cw.put_metric_data()
                            .namespace(&d.namespace)
                            .set_metric_data(Some(data))
                            .send()
                            .await
                            .map_err(fail("cloudwatch:PutMetricData", &what))?;
                    }
                }
            }
            let what = format!("create the log stream {stream} in {group}");
            if let Err(e) = logs
                .create_log_stream()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .send()
                .await
            {
                if parts(&e).0.as_deref() != Some("ResourceAlreadyExistsException") {
                    return Err(fail("logs:CreateLogStream", &what)(e));
                }
            }
            let mut events = Vec::new();
            for (line, doc) in &docs {
                events.push(
                    InputLogEvent::builder()
                        .timestamp(doc.timestamp_ms)
                        .message(line)
                        .build()
                        .map_err(|e| BackendError::refused(e.to_string()))?,
                );
            }
            events.sort_by_key(|e| e.timestamp);
            let what = format!("write the endpoint's lines to {group}");
            logs.put_log_events()
                .log_group_name(&group)
                .log_stream_name(&stream)
                .set_log_events(Some(events))
                .send()
                .await
                .map_err(fail("logs:PutLogEvents", &what))?;
            Ok(())
        })
    }

    /// The EMF lines of the log group since `since_ms`.
    fn lines_since(&self, since_ms: i64) -> Result<Vec<String>> {
        let logs = self.logs.clone();
        let group = self.config.log_group.clone();
        block_on(async move {
            let what = format!("read the endpoint's lines in {group}");
            let mut out = Vec::new();
            let mut token = None;
            loop {
                let page = logs
                    .filter_log_events()
                    .log_group_name(&group)
                    .start_time(since_ms)
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(fail("logs:FilterLogEvents", &what))?;
                out.extend(page.events().iter().filter_map(|e| e.message.clone()));
                token = page.next_token;
                if token.is_none() {
                    return Ok(out);
                }
            }
        })
    }

    /// CloudWatch's latency percentiles per period start (seconds).
    fn percentiles(
        &self,
        from_s: i64,
        to_s: i64,
        period: i32,
    ) -> Result<BTreeMap<i64, [Option<f64>; 3]>> {
        let cw = self.cloudwatch.clone();
        let metric = Metric::builder()
            .namespace(&self.config.namespace)
            .metric_name(emf::metric::LATENCY)
            .dimensions(
                Dimension::builder()
                    .name(emf::DIMENSION)
                    .value(&self.config.name)
                    .build(),
            )
            .build();
        block_on(async move {
            let query = |id: &str, stat: &str| {
                MetricDataQuery::builder()
                    .id(id)
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric.clone())
                            .period(period)
                            .stat(stat)
                            .build(),
                    )
                    .return_data(true)
                    .build()
            };
            let what = "read the endpoint's latency percentiles";
            let mut out: BTreeMap<i64, [Option<f64>; 3]> = BTreeMap::new();
            let mut token = None;
            loop {
                let page = cw
                    .get_metric_data()
                    .metric_data_queries(query("p50", "p50"))
                    .metric_data_queries(query("p90", "p90"))
                    .metric_data_queries(query("p99", "p99"))
                    .start_time(DateTime::from_secs(from_s))
                    .end_time(DateTime::from_secs(to_s))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(fail("cloudwatch:GetMetricData", what))?;
                for r in page.metric_data_results() {
                    let i = match r.id() {
                        Some("p50") => 0,
                        Some("p90") => 1,
                        Some("p99") => 2,
                        _ => continue,
                    };
                    for (t, v) in r.timestamps().iter().zip(r.values()) {
                        out.entry(t.secs()).or_default()[i] = Some(*v);
                    }
                }
                token = page.next_token;
                if token.is_none() {
                    return Ok(out);
                }
            }
        })
    }

    /// API Gateway's and the ECS service's metrics since `from_s`, at
    /// `period` seconds.
    fn platform(&self, from_s: i64, to_s: i64, period: i32) -> Result<Vec<ServiceSeries>> {
        let dim = |n: &str, v: &str| Dimension::builder().name(n).value(v).build();
        let mut wanted: Vec<Wanted> = Vec::new();
        if let (Some(api), Some(stage)) = (&self.config.api_name, &self.config.stage) {
            let dims = vec![dim("ApiName", api), dim("Stage", stage)];
            for (metric, stat, unit) in [
                ("Count", "Sum", "requests"),
                ("4XXError", "Sum", "requests"),
                ("5XXError", "Sum", "requests"),
                ("Latency", "Average", "ms"),
            ] {
                wanted.push(Wanted {
                    id: format!("api{}", wanted.len()),
                    namespace: "AWS/ApiGateway",
                    metric,
                    stat,
                    unit,
                    dimensions: dims.clone(),
                });
            }
        }
        let dims = vec![
            dim("ClusterName", &self.config.cluster),
            dim("ServiceName", &self.config.service),
        ];
        for metric in ["CPUUtilization", "MemoryUtilization"] {
            wanted.push(Wanted {
                id: format!("ecs{}", wanted.len()),
                namespace: "AWS/ECS",
                metric,
                stat: "Average",
                unit: "%",
                dimensions: dims.clone(),
            });
        }
        let queries: Vec<MetricDataQuery> = wanted
            .iter()
            .map(|w| {
                MetricDataQuery::builder()
                    .id(&w.id)
                    .metric_stat(
                        MetricStat::builder()
                            .metric(
                                Metric::builder()
                                    .namespace(w.namespace)
                                    .metric_name(w.metric)
                                    .set_dimensions(Some(w.dimensions.clone()))
                                    .build(),
                            )
                            .period(period)
                            .stat(w.stat)
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let cw = self.cloudwatch.clone();
        let results = block_on(async move {
            let what = "read API Gateway's and the ECS service's metrics";
            let mut out: BTreeMap<String, Vec<(i64, f64)>> = BTreeMap::new();
            let mut token = None;
            loop {
                let page = cw
                    .get_metric_data()
                    .set_metric_data_queries(Some(queries.clone()))
                    .start_time(DateTime::from_secs(from_s))
                    .end_time(DateTime::from_secs(to_s))
                    .set_next_token(token)
                    .send()
                    .await
                    .map_err(fail("cloudwatch:GetMetricData", what))?;
                for r in page.metric_data_results() {
                    let points = out
                        .entry(r.id().unwrap_or_default().to_string())
                        .or_default();
                    points.extend(
                        r.timestamps()
                            .iter()
                            .map(|t| t.secs())
                            .zip(r.values().iter().copied()),
                    );
                }
                token = page.next_token;
                if token.is_none() {
                    return Ok(out);
                }
            }
        })?;
        Ok(wanted
            .into_iter()
            .filter_map(|w| {
                let mut points = results.get(&w.id)?.clone();
                if points.is_empty() {
                    return None;
                }
                points.sort_by_key(|p| p.0);
                Some(ServiceSeries {
                    source: w.namespace.to_string(),
                    metric: w.metric.to_string(),
                    stat: w.stat.to_string(),
                    unit: w.unit.to_string(),
                    points: points
                        .into_iter()
                        .filter_map(|(t, v)| {
                            let at = chrono::DateTime::from_timestamp(t, 0)?
                                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                            Some((at, v))
                        })
                        .collect(),
                })
            })
            .collect())
    }

    fn sample_key(&self, name: &str) -> Result<ObjectKey> {
        Ok(ObjectKey::new(&format!(
            "{}{}.json",
            self.config.live_sample_prefix(),
            name.replace('/', "-")
        ))?)
    }
}

/// One platform metric asked of CloudWatch.
struct Wanted {
    id: String,
    namespace: &'static str,
    metric: &'static str,
    stat: &'static str,
    unit: &'static str,
    dimensions: Vec<Dimension>,
}

/// Seconds since the epoch of an RFC 3339 time.
fn epoch_s(t: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(t)
        .ok()
        .map(|t| t.timestamp())
}

impl Monitor for CloudWatchMonitor {
    fn endpoints(&self) -> Vec<String> {
        vec![self.config.name.clone()]
    }

    fn metric_windows(&self, since: &str) -> Result<Vec<MetricWindow>> {
        let since_s = epoch_s(since)
            .ok_or_else(|| BackendError::refused(format!("{since:?} is not an RFC 3339 time")))?;
        let mut windows: Vec<MetricWindow> = self
            .lines_since(since_s * 1000)?
            .iter()
            .filter_map(|l| emf::parse(l).ok()?.window)
            .filter(|w| w.endpoint == self.config.name)
            .filter(|w| epoch_s(&w.window_start).is_some_and(|t| t >= since_s))
            .collect();
        windows.sort_by(|a, b| a.window_start.cmp(&b.window_start));
        if windows.is_empty() {
            return Ok(windows);
        }
        // CloudWatch's percentiles over every task's requests replace the
        // ones each task computed over its own, where CloudWatch has them.
        let period = windows
            .iter()
            .map(|w| w.interval_s.round() as i32)
            .max()
            .unwrap_or(60)
            .clamp(60, 3600)
            / 60
            * 60;
        let to = chrono::Utc::now().timestamp() + i64::from(period);
        let from = since_s - since_s.rem_euclid(i64::from(period));
        // Without CloudWatch's (a 5xx, a simulator that does not compute
        // percentiles) the tasks' own stay; a missing permission is said.
        let p = match self.percentiles(from, to, period) {
            Ok(p) => p,
            Err(e) if e.kind() == tablero_core::ports::ErrorKind::Permission => return Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "latency percentiles from the endpoint's own windows");
                BTreeMap::new()
            }
        };
        for w in &mut windows {
            let Some(t) = epoch_s(&w.window_start) else {
                continue;
            };
            let start = t - t.rem_euclid(i64::from(period));
            if let Some([p50, p90, p99]) = p.get(&start) {
                w.p50_ms = p50.or(w.p50_ms);
                w.p90_ms = p90.or(w.p90_ms);
                w.p99_ms = p99.or(w.p99_ms);
            }
        }
        Ok(windows)
    }

    fn record_metrics(
        &self,
        windows: &[MetricWindow],
        sample: &[LiveSlot],
    ) -> Result<Vec<AlarmChange>> {
        let lines: Vec<String> = windows
            .iter()
            .map(|w| emf::line(w, &self.config.namespace, None))
            .collect();
        self.publish(&lines)?;
        if !sample.is_empty() {
            let key = self.sample_key(&self.stream)?;
            let mut slots: BTreeMap<usize, LiveSlot> = match self.store.read(Bucket::Models, &key) {
                Ok(bytes) => serde_json::from_slice::<Vec<LiveSlot>>(&bytes)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| (s.slot, s))
                    .collect(),
                Err(e) if e.kind() == tablero_core::ports::ErrorKind::NotFound => BTreeMap::new(),
                Err(e) => return Err(e),
            };
            for s in sample {
                slots.insert(s.slot, s.clone());
            }
            let all: Vec<LiveSlot> = slots.into_values().collect();
            let bytes =
                serde_json::to_vec(&all).map_err(|e| BackendError::refused(e.to_string()))?;
            tablero_core::ports::put_bytes(
                self.store.as_ref(),
                Bucket::Models,
                &key,
                &bytes,
                &BTreeMap::new(),
            )?;
        }
        // CloudWatch evaluates the alarms itself.
        Ok(Vec::new())
    }

    fn alarm_rules(&self) -> AlarmRules {
        self.rules.clone()
    }

    fn alarm_history(&self) -> Result<Vec<AlarmChange>> {
        let Some(prefix) = self.config.alarm_prefix.clone() else {
            return Ok(Vec::new());
        };
        let names: Vec<(AlarmRule, String)> = AlarmRule::ALL
            .into_iter()
            .map(|r| (r, alarm_name(&prefix, r)))
            .collect();
        let cw = self.cloudwatch.clone();
        let asked: Vec<String> = names.iter().map(|(_, n)| n.clone()).collect();
        let alarms = block_on(async move {
            let what = format!("read the alarms {}", asked.join(", "));
            Ok(cw
                .describe_alarms()
                .set_alarm_names(Some(asked))
                .send()
                .await
                .map_err(fail("cloudwatch:DescribeAlarms", &what))?
                .metric_alarms
                .unwrap_or_default())
        })?;
        let mut out: Vec<AlarmChange> = alarms
            .into_iter()
            .filter_map(|a| {
                let rule = names
                    .iter()
                    .find(|(_, n)| Some(n.as_str()) == a.alarm_name())?
                    .0;
                let state = match a.state_value() {
                    Some(StateValue::Alarm) => AlarmStatus::Alarm,
                    _ => AlarmStatus::Ok,
                };
                let value = a
                    .state_reason_data()
                    .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                    .and_then(|d| d["recentDatapoints"].as_array()?.last()?.as_f64());
                Some(AlarmChange {
                    rule,
                    state,
                    value,
                    message: a.state_reason().unwrap_or_default().to_string(),
                    at: crate::clients::rfc3339(a.state_updated_timestamp()),
                })
            })
            .collect();
        out.sort_by(|a, b| b.at.cmp(&a.at));
        Ok(out)
    }

    fn live_sample_capacity(&self) -> usize {
        self.capacity
    }

    fn service_metrics(&self, since: &str) -> Result<Vec<ServiceSeries>> {
        let from = epoch_s(since)
            .ok_or_else(|| BackendError::refused(format!("{since:?} is not an RFC 3339 time")))?;
        let to = chrono::Utc::now().timestamp();
        // About 100 points over the range, in whole minutes.
        let period = (((to - from).max(60) / 100 / 60).max(1) * 60).min(86_400) as i32;
        self.platform(
            from - from.rem_euclid(i64::from(period)),
            to + i64::from(period),
            period,
        )
    }

    fn live_sample(&self, since: Option<&str>) -> Result<Vec<LiveSlot>> {
        let prefix = self.config.live_sample_prefix();
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .store
                .list(Bucket::Models, &prefix, token.as_deref(), 1000)?;
            for o in &page.objects {
                let bytes = self.store.read(Bucket::Models, &ObjectKey::new(&o.key)?)?;
                // A file that is not a sample is not the endpoint's: skipped.
                if let Ok(slots) = serde_json::from_slice::<Vec<LiveSlot>>(&bytes) {
                    out.extend(slots);
                }
            }
            token = page.next_token;
            if token.is_none() {
                break;
            }
        }
        if let Some(since) = since {
            out.retain(|s| s.seen_at.as_str() >= since);
        }
        out.sort_by(|a, b| a.seen_at.cmp(&b.seen_at));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alarm_names_follow_the_template() {
        assert_eq!(
            alarm_name("tablero", AlarmRule::FeatureDrift),
            "tablero-feature-drift"
        );
        assert_eq!(
            alarm_name("tablero", AlarmRule::ErrorRate),
            "tablero-error-rate"
        );
        assert_eq!(
            alarm_name("tablero", AlarmRule::LatencyP99),
            "tablero-latency-p99"
        );
    }
}
