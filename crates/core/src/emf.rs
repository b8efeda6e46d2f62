//! CloudWatch Embedded Metric Format: the endpoint in its container writes
//! one line per metrics window on stdout; CloudWatch Logs keeps the line
//! and turns the metrics it declares into CloudWatch metrics; the monitor
//! reads the window back from the line.
//!
//! A line declares, in namespace `namespace` with the dimension
//! `Endpoint`: `Requests`, `Errors`, `Predictions`, `Positives` (Count),
//! `Latency` (Milliseconds, a values/counts distribution so CloudWatch can
//! compute percentiles) and `MaxFeaturePSI` (the largest PSI of any feature
//! in the window, when the model has a baseline). The whole window (score
//! and feature bins, the exact percentiles) is the plain property
//! [`WINDOW_PROPERTY`], which CloudWatch keeps but does not turn into
//! metrics. [`parse`] checks a line against the EMF specification.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::monitor::MetricWindow;

/// The property holding the whole window.
pub const WINDOW_PROPERTY: &str = "tablero_window";

/// The namespace of the endpoint's metrics unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "Tablero";

/// The dimension naming the endpoint.
pub const DIMENSION: &str = "Endpoint";

/// Metric names of a line.
pub mod metric {
    /// Prediction requests.
    pub const REQUESTS: &str = "Requests";
    /// Requests answered with an error.
    pub const ERRORS: &str = "Errors";
    /// Records scored.
    pub const PREDICTIONS: &str = "Predictions";
    /// Records predicted 1.
    pub const POSITIVES: &str = "Positives";
    /// Request latency, ms.
    pub const LATENCY: &str = "Latency";
    /// The largest feature PSI of the window.
    pub const MAX_FEATURE_PSI: &str = "MaxFeaturePSI";
}

/// Values per metric the specification allows (and PutMetricData takes).
pub const MAX_VALUES: usize = 100;

/// Metrics per directive the specification allows.
pub const MAX_METRICS: usize = 100;

const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// One metric a line declares, with its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Metric {
    /// Its name.
    pub name: String,
    /// Its unit (`None` when the line gives none).
    pub unit: String,
    /// Its values.
    pub values: Vec<f64>,
    /// How often each value occurred (1 each unless the line says).
    pub counts: Vec<f64>,
}

/// What CloudWatch takes from one line.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    /// Milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Per directive: its namespace, dimension sets (name, value) and metrics.
    pub directives: Vec<Directive>,
    /// The window, when the line carries one.
    pub window: Option<MetricWindow>,
}

/// One `MetricDirective` of a line, resolved against its members.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// Namespace.
    pub namespace: String,
    /// Dimension sets, each a list of (name, value).
    pub dimensions: Vec<Vec<(String, String)>>,
    /// Metrics.
    pub metrics: Vec<Metric>,
}

/// Latencies (ms) as a distribution of at most [`MAX_VALUES`] values:
/// each rounded to two significant digits (one when two give too many),
/// with how often it occurred. Sorted by value.
pub fn latency_distribution(latencies_ms: &[f64]) -> Vec<(f64, u64)> {
    for digits in [2, 1] {
        let mut counts: std::collections::BTreeMap<u64, u64> = Default::default();
        for &l in latencies_ms.iter().filter(|l| l.is_finite() && **l >= 0.0) {
            *counts
                .entry(round_significant(l, digits).to_bits())
                .or_default() += 1;
        }
        let mut out: Vec<(f64, u64)> = counts
            .into_iter()
            .map(|(b, n)| (f64::from_bits(b), n))
            .collect();
        out.sort_by(|a, b| a.0.total_cmp(&b.0));
        if out.len() <= MAX_VALUES || digits == 1 {
            out.truncate(MAX_VALUES);
            return out;
        }
    }
    Vec::new()
}

fn round_significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    let magnitude = x.abs().log10().floor() as i32;
    let scale = 10f64.powi(digits - 1 - magnitude);
    (x * scale).round() / scale
}

/// The EMF line of `window` (written at `timestamp_ms`), in `namespace`,
/// with the window's largest feature PSI when known.
pub fn line(window: &MetricWindow, namespace: &str, max_psi: Option<f64>) -> String {
    let timestamp_ms = chrono::DateTime::parse_from_rfc3339(&window.window_start)
        .map(|t| t.timestamp_millis())
        .unwrap_or_else(|_| chrono::Utc::now().timestamp_millis());
    let mut metrics = vec![
        json!({"Name": metric::REQUESTS, "Unit": "Count"}),
        json!({"Name": metric::ERRORS, "Unit": "Count"}),
        json!({"Name": metric::PREDICTIONS, "Unit": "Count"}),
        json!({"Name": metric::POSITIVES, "Unit": "Count"}),
    ];
    let mut root = Map::new();
    root.insert(DIMENSION.into(), json!(window.endpoint));
    root.insert(metric::REQUESTS.into(), json!(window.requests));
    root.insert(metric::ERRORS.into(), json!(window.errors));
    root.insert(metric::PREDICTIONS.into(), json!(window.predictions));
    root.insert(metric::POSITIVES.into(), json!(window.positives));
    if !window.latency_ms.is_empty() {
        metrics.push(json!({"Name": metric::LATENCY, "Unit": "Milliseconds"}));
        let values: Vec<f64> = window.latency_ms.iter().map(|(v, _)| *v).collect();
        let counts: Vec<u64> = window.latency_ms.iter().map(|(_, n)| *n).collect();
        let n: u64 = counts.iter().sum();
        let sum: f64 = window.latency_ms.iter().map(|(v, c)| v * *c as f64).sum();
        root.insert(
            metric::LATENCY.into(),
            json!({
                "Values": values,
                "Counts": counts,
                "Min": values.first(),
                "Max": values.last(),
                "Count": n,
                "Sum": sum,
            }),
        );
    }
    if let Some(psi) = max_psi.filter(|p| p.is_finite()) {
        metrics.push(json!({"Name": metric::MAX_FEATURE_PSI, "Unit": "None"}));
        root.insert(metric::MAX_FEATURE_PSI.into(), json!(psi));
    }
    root.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[DIMENSION]],
                "Metrics": metrics,
            }],
        }),
    );
    root.insert(
        WINDOW_PROPERTY.into(),
        serde_json::to_value(window).unwrap_or(Value::Null),
    );
    Value::Object(root).to_string()
}

/// Checks a log line against the EMF specification and resolves what it
/// declares: the root is one JSON object with `_aws` holding a
/// non-negative integer `Timestamp` and `CloudWatchMetrics` directives;
/// each directive has a namespace, dimension sets of at most 30 names that
/// are string members, and 1 to 100 metrics each naming a member that is a
/// number, an array of at most 100 numbers, or a `Values`/`Counts`
/// distribution of equal lengths; units are CloudWatch's.
pub fn parse(line: &str) -> Result<Document, String> {
    let root: Value =
        serde_json::from_str(line.trim()).map_err(|e| format!("not one JSON object: {e}"))?;
    let root = root.as_object().ok_or("the root is not a JSON object")?;
    let aws = root
        .get("_aws")
        .and_then(Value::as_object)
        .ok_or("no `_aws` metadata object")?;
    let timestamp_ms = aws
        .get("Timestamp")
        .and_then(Value::as_i64)
        .filter(|t| *t >= 0)
        .ok_or("`_aws.Timestamp` is not a non-negative integer (ms since the epoch)")?;
    let list = aws
        .get("CloudWatchMetrics")
        .and_then(Value::as_array)
        .ok_or("`_aws.CloudWatchMetrics` is not an array")?;
    let mut directives = Vec::new();
    for (i, d) in list.iter().enumerate() {
        let d = d
            .as_object()
            .ok_or(format!("directive {i} is not an object"))?;
        let namespace = d
            .get("Namespace")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty() && n.len() <= 255 && !n.starts_with(':'))
            .ok_or(format!("directive {i}: `Namespace` is not a namespace"))?;
        let mut dimensions = Vec::new();
        for set in d
            .get("Dimensions")
            .and_then(Value::as_array)
            .ok_or(format!("directive {i}: `Dimensions` is not an array"))?
        {
            let names = set
                .as_array()
                .ok_or(format!("directive {i}: a dimension set is not an array"))?;
            if names.len() > 30 {
                return Err(format!(
                    "directive {i}: a dimension set has more than 30 names"
                ));
            }
            let mut resolved = Vec::new();
            for n in names {
                let n = n
                    .as_str()
                    .ok_or(format!("directive {i}: a dimension name is not a string"))?;
                let v = root.get(n).and_then(Value::as_str).ok_or(format!(
                    "directive {i}: dimension {n} has no string member in the root"
                ))?;
                resolved.push((n.to_string(), v.to_string()));
            }
            dimensions.push(resolved);
        }
        let defs = d
            .get("Metrics")
            .and_then(Value::as_array)
            .ok_or(format!("directive {i}: `Metrics` is not an array"))?;
        if defs.is_empty() || defs.len() > MAX_METRICS {
            return Err(format!(
                "directive {i}: {} metrics (1 to {MAX_METRICS} allowed)",
                defs.len()
            ));
        }
        let mut seen = BTreeSet::new();
        let mut metrics = Vec::new();
        for m in defs {
            let name = m
                .get("Name")
                .and_then(Value::as_str)
                .filter(|n| !n.is_empty() && n.len() <= 1024)
                .ok_or(format!("directive {i}: a metric has no `Name`"))?;
            if !seen.insert(name) {
                return Err(format!("directive {i}: metric {name} is declared twice"));
            }
            let unit = match m.get("Unit") {
                None => "None",
                Some(u) => u
                    .as_str()
                    .filter(|u| UNITS.contains(u))
                    .ok_or(format!("metric {name}: `Unit` is not a CloudWatch unit"))?,
            };
            if let Some(r) = m.get("StorageResolution") {
                if !matches!(r.as_i64(), Some(1 | 60)) {
                    return Err(format!("metric {name}: `StorageResolution` is not 1 or 60"));
                }
            }
            let (values, counts) = values_of(name, root.get(name))?;
            metrics.push(Metric {
                name: name.to_string(),
                unit: unit.to_string(),
                values,
                counts,
            });
        }
        directives.push(Directive {
            namespace: namespace.to_string(),
            dimensions,
            metrics,
        });
    }
    let window = match root.get(WINDOW_PROPERTY) {
        None => None,
        Some(w) => Some(
            serde_json::from_value(w.clone())
                .map_err(|e| format!("`{WINDOW_PROPERTY}` is not a metrics window: {e}"))?,
        ),
    };
    Ok(Document {
        timestamp_ms,
        directives,
        window,
    })
}

fn values_of(name: &str, v: Option<&Value>) -> Result<(Vec<f64>, Vec<f64>), String> {
    let numbers = |a: &Vec<Value>, what: &str| -> Result<Vec<f64>, String> {
        if a.len() > MAX_VALUES {
            return Err(format!("metric {name}: more than {MAX_VALUES} {what}"));
        }
        a.iter()
            .map(|x| {
                x.as_f64()
                    .ok_or(format!("metric {name}: a value is not a number"))
            })
            .collect()
    };
    match v {
        None => Err(format!("metric {name} has no member in the root")),
        Some(Value::Number(n)) => Ok((vec![n.as_f64().unwrap_or(0.0)], vec![1.0])),
        Some(Value::Array(a)) => {
            let values = numbers(a, "values")?;
            let counts = vec![1.0; values.len()];
            Ok((values, counts))
        }
        Some(Value::Object(o)) => {
            let values = o
                .get("Values")
                .and_then(Value::as_array)
                .ok_or(format!("metric {name}: a distribution without `Values`"))?;
            let counts = o
                .get("Counts")
                .and_then(Value::as_array)
                .ok_or(format!("metric {name}: a distribution without `Counts`"))?;
            let (values, counts) = (numbers(values, "values")?, numbers(counts, "counts")?);
            if values.len() != counts.len() {
                return Err(format!(
                    "metric {name}: `Values` and `Counts` differ in length"
                ));
            }
            Ok((values, counts))
        }
        Some(_) => Err(format!("metric {name}: its member is not a number")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window() -> MetricWindow {
        MetricWindow {
            endpoint: "tablero".into(),
            group: "default".into(),
            version: 3,
            window_start: "2026-11-29T10:00:00.000Z".into(),
            interval_s: 60.0,
            requests: 4,
            errors: 1,
            p50_ms: Some(1.5),
            p90_ms: Some(2.0),
            p99_ms: Some(2.0),
            predictions: 10,
            positives: 3,
            score_bins: vec![1, 2, 7],
            feature_bins: [("Recency".to_string(), vec![4, 6])].into_iter().collect(),
            latency_ms: latency_distribution(&[1.04, 1.5, 1.96, 2.0]),
        }
    }

    #[test]
    fn a_line_validates_and_gives_back_its_window_and_metrics() {
        let w = window();
        let doc = parse(&line(&w, "Tablero", Some(0.31))).unwrap();
        assert_eq!(doc.window.as_ref(), Some(&w));
        assert_eq!(doc.timestamp_ms, 1_795_946_400_000);
        let d = &doc.directives[0];
        assert_eq!(d.namespace, "Tablero");
        assert_eq!(
            d.dimensions,
            [[("Endpoint".to_string(), "tablero".to_string())]]
        );
        let m = |n: &str| d.metrics.iter().find(|m| m.name == n).unwrap().clone();
        assert_eq!(m("Requests").values, [4.0]);
        assert_eq!(m("MaxFeaturePSI").values, [0.31]);
        let latency = m("Latency");
        assert_eq!(latency.unit, "Milliseconds");
        assert_eq!(latency.values, [1.0, 1.5, 2.0]);
        assert_eq!(latency.counts, [1.0, 1.0, 2.0]);
        // Without a PSI the metric is not declared.
        let doc = parse(&line(&w, "Tablero", None)).unwrap();
        assert!(doc.directives[0]
            .metrics
            .iter()
            .all(|m| m.name != "MaxFeaturePSI"));
    }

    #[test]
    fn lines_that_break_the_specification_say_how() {
        let good: Value = serde_json::from_str(&line(&window(), "Tablero", None)).unwrap();
        let broken = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            parse(&v.to_string()).unwrap_err()
        };
        assert!(parse("plain text").unwrap_err().contains("JSON"));
        assert!(broken(&|v| {
            v.as_object_mut().unwrap().remove("_aws");
        })
        .contains("_aws"));
        assert!(broken(&|v| v["_aws"]["Timestamp"] = json!(-1)).contains("Timestamp"));
        assert!(broken(&|v| {
            v.as_object_mut().unwrap().remove("Endpoint");
        })
        .contains("dimension Endpoint"));
        assert!(broken(&|v| v["Requests"] = json!("4")).contains("Requests"));
        assert!(broken(
            &|v| v["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Requests")
        )
        .contains("Unit"));
        assert!(broken(&|v| v["Latency"]["Counts"] = json!([1])).contains("differ"));
        assert!(broken(&|v| v["Requests"] = json!(vec![1; 101])).contains("more than 100"));
        assert!(
            broken(&|v| v["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!([]))
                .contains("metrics")
        );
    }

    #[test]
    fn latencies_fit_in_a_hundred_values() {
        let many: Vec<f64> = (0..100_000).map(|i| 0.01 * f64::from(i)).collect();
        let d = latency_distribution(&many);
        assert!(d.len() <= MAX_VALUES, "{}", d.len());
        assert_eq!(d.iter().map(|(_, n)| n).sum::<u64>(), 100_000);
        assert!(d.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(
            latency_distribution(&[0.123, 0.1234, 45.6]),
            [(0.12, 2), (46.0, 1)]
        );
    }
}
