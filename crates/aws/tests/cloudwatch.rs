//! The monitor on CloudWatch. Against moto: the endpoint's EMF lines (what
//! its container writes on stdout) are checked against the specification
//! and published as CloudWatch would (PutMetricData for the metrics they
//! declare, PutLogEvents for the lines, moto turning no EMF line into
//! metrics itself); the monitor reads the windows back from the logs,
//! drift from their bins, alarm states set with SetAlarmState (moto
//! evaluates no alarm), and the live sample from the models bucket. With
//! typed responses (aws-smithy-mocks): latency percentiles, which moto's
//! GetMetricData does not compute.

mod support;

use std::sync::Arc;

use aws_sdk_cloudwatch::types::StateValue;
use aws_smithy_mocks::mock;
use support::{admin_credentials, mocked, AwsHarness};
use tablero_aws::cloudwatch::{alarm_name, CloudWatchMonitor};
use tablero_aws::Clients;
use tablero_conformance::suite::{ago, features, live_sample, train, window, Harness, Persona};
use tablero_core::emf;
use tablero_core::monitor::{self, AlarmRule, AlarmRules};
use tablero_core::ports::Monitor;
use tablero_core::train::models::Algorithm;

#[test]
fn windows_drift_alarms_and_the_live_sample_on_cloudwatch() {
    let h = AwsHarness::new();
    let trainer = h.backend(Persona::Trainer);
    let v = train(&trainer, &features(&trainer), Algorithm::Lr);
    tablero_app::models::approve(&h.backend(Persona::Approver), "default", v, "ok", false).unwrap();
    let ops = h.backend(Persona::Ops);
    tablero_app::deploy::promote(&ops, "default", v, &|_| {}).unwrap();
    let endpoint = h.cfg.endpoint.clone().unwrap();
    assert_eq!(ops.monitor.endpoints(), [endpoint.name.as_str()]);
    let card = ops.registry.card("default", v).unwrap();

    let since = ago(600);
    assert!(ops.monitor.metric_windows(&since).unwrap().is_empty());

    // Two windows as the endpoint writes them: calm, then drifted.
    let calm = window(&endpoint.name, &card, ago(180), false);
    let mut drifted = window(&endpoint.name, &card, ago(60), true);
    drifted.latency_ms = emf::latency_distribution(&[0.4, 0.5, 0.5, 2.0]);
    let lines: Vec<String> = [&calm, &drifted]
        .iter()
        .map(|w| {
            emf::line(
                w,
                &endpoint.namespace,
                monitor::max_feature_psi(&card.baseline, w),
            )
        })
        .collect();
    for line in &lines {
        emf::parse(line).expect("an EMF document");
    }
    let drifted_psi = monitor::max_feature_psi(&card.baseline, &drifted).unwrap();
    assert!(drifted_psi >= 0.25, "{drifted_psi}");
    let admin = Clients::new(&h.cfg, Some(admin_credentials())).unwrap();
    let cloudwatch = CloudWatchMonitor::new(
        admin.cloudwatch.clone(),
        admin.logs.clone(),
        endpoint.clone(),
        AlarmRules::default(),
        ops.store.clone(),
        100,
        "serve/serve/task-1".into(),
    );
    cloudwatch.publish(&lines).unwrap();
    // A line that breaks the specification is refused and nothing of it kept.
    let err = cloudwatch
        .publish(&[
            r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]},"x":1}"#.to_string(),
            "plain".into(),
        ])
        .unwrap_err();
    assert!(
        err.to_string().contains("line 2 is not an EMF document"),
        "{err}"
    );

    // The windows come back whole from the logs, oldest first.
    let read = ops.monitor.metric_windows(&since).unwrap();
    assert_eq!(read, [calm.clone(), drifted.clone()]);
    assert_eq!(
        ops.monitor.metric_windows(&ago(120)).unwrap(),
        [drifted.clone()]
    );
    // Drift per feature from the lines' bins, and the same charts as locally.
    let drift = tablero_app::monitor::drift_since(&ops, "default", v, &since).unwrap();
    assert!(
        drift[0].psi >= 0.25 && drift[0].level.name() == "drift",
        "{drift:?}"
    );
    let charts: Vec<String> = tablero_app::monitor::endpoint_charts(&ops, &since)
        .unwrap()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(charts, ["requests", "latency", "score", "drift"]);
    // The metrics the lines declare are CloudWatch metrics now.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let requests = rt.block_on(async {
        let start = chrono::Utc::now().timestamp() - 3600;
        admin
            .cloudwatch
            .get_metric_statistics()
            .namespace(&endpoint.namespace)
            .metric_name("Requests")
            .dimensions(
                aws_sdk_cloudwatch::types::Dimension::builder()
                    .name("Endpoint")
                    .value(&endpoint.name)
                    .build(),
            )
            .start_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(start))
            .end_time(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                start + 7200,
            ))
            .period(3600)
            .statistics(aws_sdk_cloudwatch::types::Statistic::Sum)
            .send()
            .await
            .unwrap()
            .datapoints()
            .iter()
            .filter_map(|d| d.sum())
            .sum::<f64>()
    });
    assert_eq!(requests, (calm.requests + drifted.requests) as f64);

    // Alarms: every rule OK until CloudWatch says otherwise.
    let alarms = tablero_app::monitor::alarms(&ops).unwrap();
    assert!(
        alarms.alarms.iter().all(|a| a.state.name() == "OK"),
        "{alarms:?}"
    );
    let prefix = endpoint.alarm_prefix.clone().unwrap();
    rt.block_on(async {
        admin
            .cloudwatch
            .set_alarm_state()
            .alarm_name(alarm_name(&prefix, AlarmRule::FeatureDrift))
            .state_value(StateValue::Alarm)
            .state_reason("Threshold Crossed: 1 datapoint [0.41] was >= 0.25")
            .state_reason_data(r#"{"version":"1.0","recentDatapoints":[0.41],"threshold":0.25}"#)
            .send()
            .await
            .unwrap();
    });
    let alarms = tablero_app::monitor::alarms(&ops).unwrap();
    let state = |rule: AlarmRule| {
        alarms
            .alarms
            .iter()
            .find(|a| a.rule == rule)
            .unwrap()
            .clone()
    };
    assert_eq!(state(AlarmRule::FeatureDrift).state.name(), "ALARM");
    assert_eq!(state(AlarmRule::FeatureDrift).value, Some(0.41));
    assert_eq!(state(AlarmRule::ErrorRate).state.name(), "OK");
    assert_eq!(alarms.history[0].rule, AlarmRule::FeatureDrift);
    assert!(alarms.history[0].message.contains("Threshold Crossed"));

    // The platform around the endpoint: API Gateway's and the ECS
    // service's metrics (put here as AWS would), as series and charts.
    assert!(tablero_app::monitor::service(&ops, &since)
        .unwrap()
        .series
        .is_empty());
    rt.block_on(async {
        let dim = |n: &str, v: &str| {
            aws_sdk_cloudwatch::types::Dimension::builder()
                .name(n)
                .value(v)
                .build()
        };
        let now = aws_sdk_cloudwatch::primitives::DateTime::from_secs(
            chrono::Utc::now().timestamp() - 120,
        );
        let datum = |metric: &str, v: f64, dims: Vec<aws_sdk_cloudwatch::types::Dimension>| {
            aws_sdk_cloudwatch::types::MetricDatum::builder()
                .metric_name(metric)
                .set_dimensions(Some(dims))
                .timestamp(now)
                .value(v)
                .build()
        };
        let ecs = vec![
            dim("ClusterName", &endpoint.cluster),
            dim("ServiceName", &endpoint.service),
        ];
        admin
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/ECS")
            .metric_data(datum("CPUUtilization", 37.5, ecs.clone()))
            .metric_data(datum("MemoryUtilization", 12.0, ecs))
            .send()
            .await
            .unwrap();
        let api = vec![
            dim("ApiName", endpoint.api_name.as_deref().unwrap()),
            dim("Stage", endpoint.stage.as_deref().unwrap()),
        ];
        admin
            .cloudwatch
            .put_metric_data()
            .namespace("AWS/ApiGateway")
            .metric_data(datum("Count", 40.0, api.clone()))
            .metric_data(datum("5XXError", 2.0, api))
            .send()
            .await
            .unwrap();
    });
    let service = tablero_app::monitor::service(&ops, &since).unwrap().series;
    let value = |source: &str, metric: &str| {
        service
            .iter()
            .find(|s| s.source == source && s.metric == metric)
            .and_then(|s| s.points.last())
            .map(|p| p.1)
    };
    assert_eq!(
        value("AWS/ECS", "CPUUtilization"),
        Some(37.5),
        "{service:?}"
    );
    assert_eq!(value("AWS/ECS", "MemoryUtilization"), Some(12.0));
    assert_eq!(value("AWS/ApiGateway", "Count"), Some(40.0));
    assert_eq!(value("AWS/ApiGateway", "5XXError"), Some(2.0));
    let view = tablero_app::monitor::view(&ops, tablero_app::time::TimeRange::LastHour).unwrap();
    assert_eq!(view.service.len(), service.len());
    assert_eq!(
        view.charts.service.len(),
        2,
        "one chart per unit: requests, %"
    );
    assert!(view
        .charts
        .service
        .iter()
        .all(|svg| svg.starts_with("<svg")));

    // The live sample: kept in the models bucket, read back by time.
    let sample = live_sample(3, &ago(30));
    assert!(ops.monitor.record_metrics(&[], &sample).unwrap().is_empty());
    assert_eq!(ops.monitor.live_sample(None).unwrap(), sample);
    assert!(ops
        .monitor
        .live_sample(Some(&ago(-3600)))
        .unwrap()
        .is_empty());
}

#[test]
fn latency_percentiles_are_cloudwatchs() {
    use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::MetricDataResult;
    use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
    use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;

    // A window of two tasks' worth of requests, at the start of a minute.
    let minute = (chrono::Utc::now().timestamp() / 60 - 5) * 60;
    let start = chrono::DateTime::from_timestamp(minute, 0)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn tablero_core::ports::ObjectStore> =
        Arc::new(tablero_local::folder::FolderStore::new(dir.path()));
    let w = tablero_core::monitor::MetricWindow {
        endpoint: "tablero".into(),
        group: "default".into(),
        version: 1,
        window_start: start.clone(),
        interval_s: 60.0,
        requests: 40,
        errors: 0,
        p50_ms: Some(1.0),
        p90_ms: Some(2.0),
        p99_ms: Some(3.0),
        predictions: 40,
        positives: 10,
        score_bins: vec![],
        feature_bins: Default::default(),
        latency_ms: emf::latency_distribution(&[1.0, 2.0, 3.0]),
    };
    let line = emf::line(&w, "Tablero", None);
    let logs = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_output(move || {
        FilterLogEventsOutput::builder()
            .events(
                FilteredLogEvent::builder()
                    .timestamp(minute * 1000)
                    .message(line.clone())
                    .build(),
            )
            .build()
    });
    let metrics = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| {
            r.metric_data_queries().iter().all(|q| {
                let stat = q.metric_stat().unwrap();
                stat.metric().unwrap().metric_name() == Some("Latency") && stat.period() == Some(60)
            })
        })
        .then_output(move || {
            let result = |id: &str, v: f64| {
                MetricDataResult::builder()
                    .id(id)
                    .timestamps(DateTime::from_secs(minute))
                    .values(v)
                    .build()
            };
            GetMetricDataOutput::builder()
                .metric_data_results(result("p50", 1.5))
                .metric_data_results(result("p90", 7.5))
                .metric_data_results(result("p99", 42.0))
                .build()
        });
    let config: tablero_aws::config::EndpointConfig =
        toml::from_str("cluster = \"c\"\nservice = \"s\"\nlog_group = \"g\"\n").unwrap();
    let m = CloudWatchMonitor::new(
        mocked!(aws_sdk_cloudwatch, &[&metrics]),
        mocked!(aws_sdk_cloudwatchlogs, &[&logs]),
        config,
        AlarmRules::default(),
        store,
        100,
        "t".into(),
    );
    let read = m.metric_windows(&ago(3600)).unwrap();
    assert_eq!(read.len(), 1);
    // CloudWatch's percentiles over every task replace the task's own.
    assert_eq!(
        (read[0].p50_ms, read[0].p90_ms, read[0].p99_ms),
        (Some(1.5), Some(7.5), Some(42.0))
    );
    assert_eq!(metrics.num_calls(), 1);
    // The latency chart draws them, as locally.
    let charts = tablero_core::monitor::endpoint_charts(&read, None);
    assert!(charts.iter().any(|(name, _)| name == "latency"));
}
