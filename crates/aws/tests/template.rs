//! The stack of packaging/aws against what the product expects of it: the
//! alarms' thresholds are the use-case layer's, the endpoint's container
//! is the one the deployer changes, the service rolls a failed deployment
//! back, and every `[aws]` value the panel needs is an output.

mod support;

use serde_json::Value;
use support::template;
use tablero_core::monitor::{AlarmRule, AlarmRules};

fn sub(v: &Value) -> &str {
    v.get("Fn::Sub")
        .and_then(Value::as_str)
        .or(v.as_str())
        .unwrap_or_default()
}

#[test]
fn the_alarms_are_the_rules_of_the_use_case_layer() {
    let t = template();
    let rules = AlarmRules::default();
    let period = rules.window_minutes * 60;
    let alarm = |id: &str| t["Resources"][id]["Properties"].clone();
    for (id, rule, threshold, operator) in [
        (
            "FeatureDriftAlarm",
            AlarmRule::FeatureDrift,
            rules.feature_psi,
            "GreaterThanOrEqualToThreshold",
        ),
        (
            "ErrorRateAlarm",
            AlarmRule::ErrorRate,
            rules.error_rate,
            "GreaterThanThreshold",
        ),
        (
            "LatencyAlarm",
            AlarmRule::LatencyP99,
            rules.p99_ms,
            "GreaterThanThreshold",
        ),
    ] {
        let a = alarm(id);
        assert_eq!(a["Threshold"].as_f64(), Some(threshold), "{id}");
        assert_eq!(a["ComparisonOperator"], operator, "{id}");
        assert_eq!(a["EvaluationPeriods"], 1, "{id}");
        assert_eq!(a["TreatMissingData"], "notBreaching", "{id}");
        // The monitor finds each alarm by the name it derives from the prefix.
        assert_eq!(
            sub(&a["AlarmName"]),
            tablero_aws::cloudwatch::alarm_name("${AWS::StackName}", rule),
            "{id}"
        );
        let periods: Vec<u64> = match a.get("Metrics") {
            Some(m) => m
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|q| q["MetricStat"]["Period"].as_u64())
                .collect(),
            None => vec![a["Period"].as_u64().unwrap()],
        };
        assert!(
            !periods.is_empty() && periods.iter().all(|p| *p == period),
            "{id}: {periods:?}"
        );
    }
    assert_eq!(
        alarm("FeatureDriftAlarm")["MetricName"],
        tablero_core::emf::metric::MAX_FEATURE_PSI
    );
    assert_eq!(alarm("FeatureDriftAlarm")["Statistic"], "Maximum");
    assert_eq!(
        alarm("LatencyAlarm")["MetricName"],
        tablero_core::emf::metric::LATENCY
    );
    assert_eq!(alarm("LatencyAlarm")["ExtendedStatistic"], "p99");
    let rate = alarm("ErrorRateAlarm");
    let metrics = rate["Metrics"].as_array().unwrap();
    let name = |id: &str| {
        metrics.iter().find(|m| m["Id"] == id).unwrap()["MetricStat"]["Metric"]["MetricName"]
            .clone()
    };
    assert_eq!(name("errors"), tablero_core::emf::metric::ERRORS);
    assert_eq!(name("requests"), tablero_core::emf::metric::REQUESTS);
    assert!(metrics
        .iter()
        .any(|m| m["Expression"] == "errors / requests" && m["ReturnData"] == true));
}

#[test]
fn the_endpoint_service_is_what_the_deployer_changes() {
    let t = template();
    let td = &t["Resources"]["TaskDefinition"]["Properties"];
    let containers = td["ContainerDefinitions"].as_array().unwrap();
    let serve = containers
        .iter()
        .find(|c| c["Name"] == "serve")
        .expect("a container named serve");
    let env: Vec<&str> = serve["Environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["Name"].as_str().unwrap())
        .collect();
    for k in [
        tablero_aws::ecs::MODEL_URI,
        tablero_aws::ecs::MODEL_VERSION,
        "TABLERO_AUTH",
        "TABLERO_METRICS",
        "TABLERO_ENDPOINT",
        "TABLERO_METRICS_NAMESPACE",
        "TABLERO_LIVE_SAMPLE_URI",
    ] {
        assert!(env.contains(&k), "{k} in {env:?}");
    }
    let value = |k: &str| {
        serve["Environment"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["Name"] == k)
            .unwrap()["Value"]
            .clone()
    };
    assert_eq!(value("TABLERO_AUTH"), "gateway");
    assert_eq!(value("TABLERO_METRICS"), "emf");
    assert_eq!(serve["LogConfiguration"]["LogDriver"], "awslogs");
    let command: Vec<&str> = serve["Command"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(command[..4], ["--host", "0.0.0.0", "--port", "8080"]);
    let service = &t["Resources"]["Service"]["Properties"];
    let breaker = &service["DeploymentConfiguration"]["DeploymentCircuitBreaker"];
    assert_eq!(
        (breaker["Enable"].clone(), breaker["Rollback"].clone()),
        (true.into(), true.into())
    );
    let tg = &t["Resources"]["TargetGroup"]["Properties"];
    assert_eq!(tg["HealthCheckPath"], "/healthz");
}

#[test]
fn every_setting_of_the_panel_is_an_output() {
    let t = template();
    for k in [
        "RawBucket",
        "CleanBucket",
        "ModelsBucket",
        "ModelPackageGroup",
        "RestApiId",
        "UsagePlanId",
        "Cluster",
        "Service",
        "LogGroup",
        "MetricsNamespace",
        "EndpointName",
        "AlarmPrefix",
        "EndpointUrl",
        "ApiName",
        "StageName",
        "AnalystRoleArn",
        "MlLeadRoleArn",
        "OpsRoleArn",
    ] {
        assert!(t["Outputs"].get(k).is_some(), "output {k}");
    }
    // The buckets are private, encrypted and versioned (deletions are undone
    // from versions); raw objects move to Glacier after a parameter's days.
    for b in ["RawBucket", "CleanBucket", "ModelsBucket"] {
        let p = &t["Resources"][b]["Properties"];
        assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled", "{b}");
        assert!(p["BucketEncryption"].is_object(), "{b}");
        let block = &p["PublicAccessBlockConfiguration"];
        for k in [
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        ] {
            assert_eq!(block[k], true, "{b} {k}");
        }
    }
    let rules =
        t["Resources"]["RawBucket"]["Properties"]["LifecycleConfiguration"]["Rules"].to_string();
    assert!(
        rules.contains("GLACIER") && rules.contains("RawArchiveDays"),
        "{rules}"
    );
}
