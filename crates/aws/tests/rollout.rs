//! Following an ECS rollout, with typed responses per call
//! (aws-smithy-mocks): moto never adds a deployment on UpdateService, so
//! completion, a failure the deployment circuit breaker rolls back, and a
//! timeout are played here; tests/wire.rs promotes against moto itself.

mod support;

use std::cell::RefCell;

use aws_sdk_ecs::operation::describe_services::DescribeServicesOutput;
use aws_sdk_ecs::operation::describe_task_definition::DescribeTaskDefinitionOutput;
use aws_sdk_ecs::types::{
    ContainerDefinition, Deployment as EcsDeployment, DeploymentRolloutState, KeyValuePair,
    Service, TaskDefinition,
};
use aws_smithy_mocks::{mock, Rule};
use support::mocked;
use tablero_aws::config::EndpointConfig;
use tablero_core::ports::{DeployAction, Deployment, ErrorKind, Rollout, RolloutPhase};

const OLD: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/serve:1";
const NEW: &str = "arn:aws:ecs:us-east-1:123456789012:task-definition/serve:2";

fn client(rules: &[&Rule]) -> aws_sdk_ecs::Client {
    mocked!(aws_sdk_ecs, rules)
}

fn config(timeout_s: u64) -> EndpointConfig {
    toml::from_str(&format!(
        "cluster = \"c\"\nservice = \"s\"\nlog_group = \"g\"\nrollout_timeout_s = {timeout_s}\npoll_s = 0\n"
    ))
    .unwrap()
}

/// The service with one deployment of NEW (and OLD still draining).
fn service(
    task_definition: &str,
    new: Option<(DeploymentRolloutState, i32, &str)>,
) -> DescribeServicesOutput {
    let mut s = Service::builder()
        .service_name("s")
        .status("ACTIVE")
        .task_definition(task_definition)
        .desired_count(2)
        .running_count(2);
    if let Some((state, running, reason)) = new {
        s = s.deployments(
            EcsDeployment::builder()
                .status("PRIMARY")
                .task_definition(NEW)
                .desired_count(2)
                .running_count(running)
                .pending_count(2 - running)
                .rollout_state(state)
                .rollout_state_reason(reason)
                .build(),
        );
    }
    s = s.deployments(
        EcsDeployment::builder()
            .status("ACTIVE")
            .task_definition(OLD)
            .desired_count(2)
            .running_count(2)
            .rollout_state(DeploymentRolloutState::Completed)
            .build(),
    );
    DescribeServicesOutput::builder()
        .services(s.build())
        .build()
}

fn recorded() -> Rollout {
    Rollout {
        deployment: Deployment {
            seq: 2,
            endpoint: "tablero".into(),
            group: "default".into(),
            version: 2,
            from_version: Some(1),
            action: DeployAction::Promote,
            actor: "ops".into(),
            at: "2026-11-29T10:00:00.000Z".into(),
        },
        phase: RolloutPhase::Recorded,
        serving: None,
        detail: None,
    }
}

#[test]
fn a_rollout_is_followed_to_completed() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            service(
                NEW,
                Some((
                    DeploymentRolloutState::InProgress,
                    0,
                    "ECS deployment in progress",
                )),
            )
        })
        .output(|| {
            service(
                NEW,
                Some((
                    DeploymentRolloutState::InProgress,
                    1,
                    "ECS deployment in progress",
                )),
            )
        })
        .output(|| {
            service(
                NEW,
                Some((
                    DeploymentRolloutState::Completed,
                    2,
                    "ECS deployment completed",
                )),
            )
        })
        .build();
    let ecs = client(&[&describe]);
    let seen = RefCell::new(Vec::new());
    let done = tablero_aws::ecs::follow(&ecs, &config(60), NEW, recorded(), &|r| {
        seen.borrow_mut()
            .push((r.phase, r.detail.clone().unwrap_or_default()))
    })
    .unwrap();
    assert_eq!(done.phase, RolloutPhase::Completed);
    assert_eq!(done.serving.map(|s| s.version), Some(2));
    let seen = seen.into_inner();
    let phases: Vec<RolloutPhase> = seen.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        phases,
        [
            RolloutPhase::InProgress,
            RolloutPhase::InProgress,
            RolloutPhase::Completed
        ]
    );
    assert!(
        seen[1].1.starts_with("1 of 2 tasks running serve:2"),
        "{seen:?}"
    );
    assert!(
        seen[2].1.starts_with("2 of 2 tasks running serve:2"),
        "{seen:?}"
    );
    assert_eq!(describe.num_calls(), 3);
}

#[test]
fn a_failed_rollout_says_the_circuit_breaker_rolled_it_back() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            service(
                NEW,
                Some((
                    DeploymentRolloutState::InProgress,
                    0,
                    "ECS deployment in progress",
                )),
            )
        })
        // The circuit breaker: the deployment failed, the service runs OLD again.
        .output(|| {
            service(
                OLD,
                Some((
                    DeploymentRolloutState::Failed,
                    0,
                    "ECS deployment circuit breaker: tasks failed to start.",
                )),
            )
        })
        .build();
    let old = mock!(aws_sdk_ecs::Client::describe_task_definition)
        .match_requests(|r| r.task_definition() == Some(OLD))
        .then_output(|| {
            DescribeTaskDefinitionOutput::builder()
                .task_definition(
                    TaskDefinition::builder()
                        .task_definition_arn(OLD)
                        .family("serve")
                        .revision(1)
                        .container_definitions(
                            ContainerDefinition::builder()
                                .name("serve")
                                .environment(
                                    KeyValuePair::builder()
                                        .name("MODEL_VERSION")
                                        .value("default/v1")
                                        .build(),
                                )
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
    let ecs = client(&[&describe, &old]);
    let seen = RefCell::new(Vec::new());
    let err = tablero_aws::ecs::follow(&ecs, &config(60), NEW, recorded(), &|r| {
        seen.borrow_mut().push(r.phase)
    })
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Refused);
    let text = err.to_string();
    assert!(text.contains("ECS could not roll out default/v2"), "{text}");
    assert!(text.contains("tasks failed to start"), "{text}");
    assert!(
        text.contains(
            "the deployment circuit breaker rolled the service back to serve:1 (default/v1)"
        ),
        "{text}"
    );
    assert_eq!(
        seen.into_inner(),
        [RolloutPhase::InProgress, RolloutPhase::Failed]
    );
}

#[test]
fn a_rollout_that_does_not_finish_in_time_says_so() {
    let describe = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| {
            service(
                NEW,
                Some((
                    DeploymentRolloutState::InProgress,
                    1,
                    "ECS deployment in progress",
                )),
            )
        })
        .repeatedly()
        .build();
    let ecs = client(&[&describe]);
    let started = std::time::Instant::now();
    let err = tablero_aws::ecs::follow(&ecs, &config(1), NEW, recorded(), &|_| {}).unwrap_err();
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    let text = err.to_string();
    assert!(text.contains("did not finish within 1 s"), "{text}");
    assert!(text.contains("1 of 2 tasks running serve:2"), "{text}");
    assert!(describe.num_calls() >= 2);
    // With no timeout it returns after one look, in progress.
    let once = mock!(aws_sdk_ecs::Client::describe_services)
        .sequence()
        .output(|| service(NEW, None))
        .repeatedly()
        .build();
    let r =
        tablero_aws::ecs::follow(&client(&[&once]), &config(0), NEW, recorded(), &|_| {}).unwrap();
    assert_eq!(r.phase, RolloutPhase::InProgress);
    assert!(r
        .detail
        .unwrap()
        .contains("has not started its deployment yet"));
    assert_eq!(once.num_calls(), 1);
}
