//! The deployer on ECS Fargate: the endpoint is an ECS service whose task
//! definition's `serve` container runs `tablero-serve` with `MODEL_URI`
//! (the artifact in the models bucket) and `MODEL_VERSION` (`group/vN`).
//!
//! A promotion or rollback registers a new revision of the task definition
//! (the current one with those two variables changed, and who, when and
//! why as Docker labels), updates the service, and follows ECS's rollout
//! until the new deployment is COMPLETED or FAILED (the service's
//! deployment circuit breaker rolls a failed one back). What is deployed
//! is what the service runs; the history is the revisions. Start and stop
//! scale the service; each is audited.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::{
    ContainerDefinition, DeploymentRolloutState, KeyValuePair, Service, TaskDefinition,
};
use tablero_core::ports::{
    Audit, AuditEvent, BackendError, DeployAction, Deployer, Deployment, EndpointOptions,
    EndpointStatus, EndpointStopped, ObjectStore, Registry, Result, Rollout, RolloutPhase, Serving,
    TaskCounts,
};
use tablero_core::store::{Bucket, ObjectKey};

use crate::config::EndpointConfig;
use crate::error::fail;
use crate::identity::Callers;
use crate::runtime::block_on;

/// The variable naming the artifact to serve (`s3://bucket/key`).
pub const MODEL_URI: &str = "MODEL_URI";
/// The variable naming the version served (`group/vN`).
pub const MODEL_VERSION: &str = "MODEL_VERSION";

const LABEL_ACTION: &str = "tablero.action";
const LABEL_ACTOR: &str = "tablero.actor";
const LABEL_AT: &str = "tablero.at";
const LABEL_FROM: &str = "tablero.from-version";

/// Revisions read for the history, newest first.
const HISTORY_REVISIONS: i32 = 50;

/// The deployer over the endpoint's ECS service.
pub struct EcsDeployer {
    ecs: aws_sdk_ecs::Client,
    config: EndpointConfig,
    registry: Arc<dyn Registry>,
    store: Arc<dyn ObjectStore>,
    audit: Arc<dyn Audit>,
    caller: Arc<Callers>,
}

/// `group/vN` → (group, N).
pub fn parse_model_version(v: &str) -> Option<Serving> {
    let (group, n) = v.rsplit_once("/v")?;
    Some(Serving {
        group: group.to_string(),
        version: n.parse().ok()?,
    })
}

/// (group, N) → `group/vN`.
pub fn model_version(group: &str, version: u32) -> String {
    format!("{group}/v{version}")
}

impl EcsDeployer {
    /// The deployer of `config`'s service.
    pub fn new(
        ecs: aws_sdk_ecs::Client,
        config: EndpointConfig,
        registry: Arc<dyn Registry>,
        store: Arc<dyn ObjectStore>,
        audit: Arc<dyn Audit>,
        caller: Arc<Callers>,
    ) -> EcsDeployer {
        EcsDeployer {
            ecs,
            config,
            registry,
            store,
            audit,
            caller,
        }
    }

    fn service(&self) -> Result<Service> {
        describe_service(&self.ecs, &self.config)
    }

    fn task_definition(&self, arn: &str) -> Result<TaskDefinition> {
        describe_task_definition(&self.ecs, arn)
    }

    fn container<'a>(&self, td: &'a TaskDefinition) -> Result<&'a ContainerDefinition> {
        td.container_definitions()
            .iter()
            .find(|c| c.name.as_deref() == Some(self.config.container.as_str()))
            .ok_or_else(|| {
                BackendError::refused(format!(
                    "the task definition {} has no container named {:?} ([aws.endpoint] container)",
                    td.task_definition_arn().unwrap_or("?"),
                    self.config.container
                ))
            })
    }

    /// The deployment a revision records, or `None` when it serves nothing.
    fn deployment_of(&self, td: &TaskDefinition) -> Option<Deployment> {
        let serving = serves(td, &self.config.container)?;
        let labels = self
            .container(td)
            .ok()?
            .docker_labels
            .clone()
            .unwrap_or_default();
        let action = match labels.get(LABEL_ACTION).map(String::as_str) {
            Some("rollback") => DeployAction::Rollback,
            _ => DeployAction::Promote,
        };
        Some(Deployment {
            seq: i64::from(td.revision),
            endpoint: self.config.name.clone(),
            group: serving.group,
            version: serving.version,
            from_version: labels.get(LABEL_FROM).and_then(|v| v.parse().ok()),
            action,
            actor: labels.get(LABEL_ACTOR).cloned().unwrap_or_default(),
            at: labels
                .get(LABEL_AT)
                .cloned()
                .unwrap_or_else(|| crate::clients::rfc3339(td.registered_at())),
        })
    }

    /// Registers the current revision with `MODEL_URI`/`MODEL_VERSION` set
    /// to `group` version `version` (and the labels), returns its ARN and
    /// deployment.
    fn register(
        &self,
        current: &TaskDefinition,
        group: &str,
        version: u32,
        action: DeployAction,
        from: Option<u32>,
    ) -> Result<(String, Deployment)> {
        let artifact = self.registry.version(group, version)?.artifact.key;
        let uri = self
            .store
            .uri(Bucket::Models, ObjectKey::new(&artifact)?.as_str());
        let at = crate::clients::now();
        let actor = self.caller.get()?.actor.clone();
        let mut containers = current.container_definitions().to_vec();
        let name = self.config.container.clone();
        let c = containers
            .iter_mut()
            .find(|c| c.name.as_deref() == Some(name.as_str()))
            .ok_or_else(|| {
                BackendError::refused(format!(
                    "the task definition has no container named {name:?} ([aws.endpoint] container)"
                ))
            })?;
        let mut env: Vec<KeyValuePair> = c
            .environment()
            .iter()
            .filter(|e| !matches!(e.name.as_deref(), Some(MODEL_URI | MODEL_VERSION)))
            .cloned()
            .collect();
        env.push(KeyValuePair::builder().name(MODEL_URI).value(&uri).build());
        env.push(
            KeyValuePair::builder()
                .name(MODEL_VERSION)
                .value(model_version(group, version))
                .build(),
        );
        c.environment = Some(env);
        let mut labels = c.docker_labels.clone().unwrap_or_default();
        labels.insert(LABEL_ACTION.into(), action.name().into());
        labels.insert(LABEL_ACTOR.into(), actor);
        labels.insert(LABEL_AT.into(), at);
        match from {
            Some(f) => labels.insert(LABEL_FROM.into(), f.to_string()),
            None => labels.remove(LABEL_FROM),
        };
        c.docker_labels = Some(labels);
        let family = current.family().unwrap_or_default().to_string();
        let request = self
            .ecs
            .register_task_definition()
            .family(&family)
            .set_task_role_arn(current.task_role_arn.clone())
            .set_execution_role_arn(current.execution_role_arn.clone())
            .set_network_mode(current.network_mode.clone())
            .set_container_definitions(Some(containers))
            .set_volumes(current.volumes.clone())
            .set_placement_constraints(current.placement_constraints.clone())
            .set_requires_compatibilities(current.requires_compatibilities.clone())
            .set_cpu(current.cpu.clone())
            .set_memory(current.memory.clone())
            .set_pid_mode(current.pid_mode.clone())
            .set_ipc_mode(current.ipc_mode.clone())
            .set_proxy_configuration(current.proxy_configuration.clone())
            .set_ephemeral_storage(current.ephemeral_storage.clone())
            .set_runtime_platform(current.runtime_platform.clone());
        let td = block_on(async move {
            let what = format!("register a revision of the task definition {family}");
            request
                .send()
                .await
                .map_err(fail("ecs:RegisterTaskDefinition", &what))?
                .task_definition
                .ok_or_else(|| BackendError::refused("ECS registered no task definition"))
        })?;
        let arn = td.task_definition_arn().unwrap_or_default().to_string();
        let deployment = self.deployment_of(&td).ok_or_else(|| {
            BackendError::refused(format!(
                "the new revision {arn} does not name {group}/v{version}"
            ))
        })?;
        Ok((arn, deployment))
    }

    /// Takes a revision that never ran out of the history (best effort:
    /// it stays listed if ECS refuses).
    fn deregister(&self, arn: &str) {
        let ecs = self.ecs.clone();
        let arn = arn.to_string();
        let done = block_on(async move {
            let what = format!("deregister {arn}");
            ecs.deregister_task_definition()
                .task_definition(&arn)
                .send()
                .await
                .map_err(fail("ecs:DeregisterTaskDefinition", &what))?;
            Ok(())
        });
        if let Err(e) = done {
            tracing::warn!(error = %e, "a revision that never ran stays in the history");
        }
    }

    fn update_service(&self, task_definition: Option<&str>, desired: Option<u32>) -> Result<()> {
        let ecs = self.ecs.clone();
        let (cluster, name) = (self.config.cluster.clone(), self.config.service.clone());
        let td = task_definition.map(str::to_string);
        block_on(async move {
            let what = match (&td, desired) {
                (Some(td), _) => format!("update the ECS service {name} to {td}"),
                (None, Some(n)) => format!("scale the ECS service {name} to {n} tasks"),
                (None, None) => format!("update the ECS service {name}"),
            };
            ecs.update_service()
                .cluster(&cluster)
                .service(&name)
                .set_task_definition(td)
                .set_desired_count(desired.map(|n| n as i32))
                .send()
                .await
                .map_err(fail("ecs:UpdateService", &what))?;
            Ok(())
        })
    }
}

/// The endpoint's ECS service.
fn describe_service(ecs: &aws_sdk_ecs::Client, config: &EndpointConfig) -> Result<Service> {
    let ecs = ecs.clone();
    let (cluster, name) = (config.cluster.clone(), config.service.clone());
    block_on(async move {
        let what = format!("read the ECS service {name} of cluster {cluster}");
        let out = ecs
            .describe_services()
            .cluster(&cluster)
            .services(&name)
            .send()
            .await
            .map_err(fail("ecs:DescribeServices", &what))?;
        out.services
            .unwrap_or_default()
            .into_iter()
            .find(|s| s.status.as_deref() != Some("INACTIVE"))
            .ok_or_else(|| {
                BackendError::not_found(format!(
                    "no ECS service {name} in cluster {cluster}: check [aws.endpoint] (the stack's Cluster and Service outputs)"
                ))
            })
    })
}

/// One revision of a task definition.
fn describe_task_definition(ecs: &aws_sdk_ecs::Client, arn: &str) -> Result<TaskDefinition> {
    let ecs = ecs.clone();
    let arn = arn.to_string();
    block_on(async move {
        let what = format!("read the task definition {arn}");
        ecs.describe_task_definition()
            .task_definition(&arn)
            .send()
            .await
            .map_err(fail("ecs:DescribeTaskDefinition", &what))?
            .task_definition
            .ok_or_else(|| BackendError::not_found(format!("no task definition {arn}")))
    })
}

/// The `MODEL_VERSION` a revision's `container` serves.
fn serves(td: &TaskDefinition, container: &str) -> Option<Serving> {
    let c = td
        .container_definitions()
        .iter()
        .find(|c| c.name.as_deref() == Some(container))?;
    let v = c
        .environment()
        .iter()
        .find(|e| e.name.as_deref() == Some(MODEL_VERSION))?
        .value
        .as_deref()?;
    parse_model_version(v)
}

/// Follows the endpoint service's rollout of the task definition `arn`
/// (the deployment `recorded`) until ECS says COMPLETED or FAILED, or
/// `[aws.endpoint] rollout_timeout_s` passes; `progress` sees each look.
/// A failed rollout is refused, saying why and, when the deployment
/// circuit breaker rolled the service back, to which revision and version.
/// With a timeout of 0 it returns after one look.
pub fn follow(
    ecs: &aws_sdk_ecs::Client,
    config: &EndpointConfig,
    arn: &str,
    recorded: Rollout,
    progress: &dyn Fn(&Rollout),
) -> Result<Rollout> {
    let timeout = Duration::from_secs(config.rollout_timeout_s);
    let poll = Duration::from_millis((config.poll_s * 1000).max(1));
    let started = Instant::now();
    let serving = Serving {
        group: recorded.deployment.group.clone(),
        version: recorded.deployment.version,
    };
    let what = model_version(&serving.group, serving.version);
    loop {
        let service = describe_service(ecs, config)?;
        let rollout = |phase, detail: String| Rollout {
            phase,
            detail: Some(detail),
            serving: (phase == RolloutPhase::Completed).then(|| serving.clone()),
            ..recorded.clone()
        };
        match rollout_step(&service, arn) {
            Step::Completed(detail) => {
                let done = rollout(RolloutPhase::Completed, detail);
                progress(&done);
                return Ok(done);
            }
            Step::Failed(reason) => {
                let back = service
                    .task_definition()
                    .filter(|td| *td != arn)
                    .map(|td| {
                        let to = describe_task_definition(ecs, td)
                            .ok()
                            .and_then(|t| serves(&t, &config.container))
                            .map(|s| format!(" ({})", model_version(&s.group, s.version)))
                            .unwrap_or_default();
                        format!(
                            "; the deployment circuit breaker rolled the service back to {}{to}",
                            short(td)
                        )
                    })
                    .unwrap_or_default();
                let detail = format!("ECS could not roll out {what}: {reason}{back}");
                progress(&rollout(RolloutPhase::Failed, detail.clone()));
                return Err(BackendError::refused(detail));
            }
            Step::InProgress(detail) => {
                let r = rollout(RolloutPhase::InProgress, detail);
                progress(&r);
                if started.elapsed() >= timeout {
                    if timeout.is_zero() {
                        return Ok(r);
                    }
                    return Err(BackendError::refused(format!(
                        "the rollout of {what} did not finish within {} s ({}); ECS goes on: follow it with `tablero endpoint status`",
                        timeout.as_secs(),
                        r.detail.unwrap_or_default()
                    )));
                }
            }
        }
        let left = timeout.saturating_sub(started.elapsed());
        std::thread::sleep(poll.min(left).max(Duration::from_millis(1)));
    }
}

/// Where a service's rollout of a task definition is.
#[derive(Debug, Clone, PartialEq)]
enum Step {
    InProgress(String),
    Completed(String),
    Failed(String),
}

fn short(arn: &str) -> &str {
    arn.rsplit('/').next().unwrap_or(arn)
}

/// What the service says about its rollout of `arn`.
fn rollout_step(service: &Service, arn: &str) -> Step {
    let counts = |d: &aws_sdk_ecs::types::Deployment| {
        format!(
            "{} of {} tasks running {} ({} pending{})",
            d.running_count,
            d.desired_count,
            short(arn),
            d.pending_count,
            if d.failed_tasks > 0 {
                format!(", {} failed", d.failed_tasks)
            } else {
                String::new()
            }
        )
    };
    let mine = service
        .deployments()
        .iter()
        .find(|d| d.task_definition.as_deref() == Some(arn));
    match mine {
        Some(d) => match &d.rollout_state {
            Some(DeploymentRolloutState::Completed) => Step::Completed(counts(d)),
            Some(DeploymentRolloutState::Failed) => Step::Failed(
                d.rollout_state_reason
                    .clone()
                    .unwrap_or_else(|| "the deployment failed".into()),
            ),
            _ => Step::InProgress(format!(
                "{}; ECS: {}",
                counts(d),
                d.rollout_state_reason.as_deref().unwrap_or("IN_PROGRESS")
            )),
        },
        None if service.task_definition() != Some(arn) => Step::Failed(format!(
            "the service runs {} again",
            service
                .task_definition()
                .map(short)
                .unwrap_or("another revision")
        )),
        None => Step::InProgress(format!(
            "service updated to {}; ECS has not started its deployment yet",
            short(arn)
        )),
    }
}

impl Deployer for EcsDeployer {
    fn deployed(&self) -> Result<Option<Deployment>> {
        let service = self.service()?;
        let Some(arn) = service.task_definition() else {
            return Ok(None);
        };
        Ok(self.deployment_of(&self.task_definition(arn)?))
    }

    fn deployments(&self) -> Result<Vec<Deployment>> {
        let service = self.service()?;
        let Some(arn) = service.task_definition() else {
            return Ok(Vec::new());
        };
        let family = self
            .task_definition(arn)?
            .family()
            .unwrap_or_default()
            .to_string();
        let ecs = self.ecs.clone();
        let f = family.clone();
        let arns = block_on(async move {
            let what = format!("list the revisions of the task definition {f}");
            Ok(ecs
                .list_task_definitions()
                .family_prefix(&f)
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
                .max_results(HISTORY_REVISIONS)
                .send()
                .await
                .map_err(fail("ecs:ListTaskDefinitions", &what))?
                .task_definition_arns
                .unwrap_or_default())
        })?;
        let mut out = Vec::new();
        for a in arns {
            // Another family sharing the prefix is not this endpoint's.
            let td = self.task_definition(&a)?;
            if td.family() != Some(family.as_str()) {
                continue;
            }
            if let Some(d) = self.deployment_of(&td) {
                out.push(d);
            }
        }
        out.sort_by_key(|d| std::cmp::Reverse(d.seq));
        Ok(out)
    }

    fn deploy(
        &self,
        group: &str,
        version: u32,
        action: DeployAction,
        progress: &dyn Fn(&Rollout),
    ) -> Result<Rollout> {
        let service = self.service()?;
        let current_arn = service.task_definition().ok_or_else(|| {
            BackendError::refused(format!(
                "the ECS service {} has no task definition",
                self.config.service
            ))
        })?;
        let current = self.task_definition(current_arn)?;
        let before = self.deployment_of(&current);
        let from = before
            .as_ref()
            .filter(|d| d.group == group)
            .map(|d| d.version);
        let (arn, deployment) = self.register(&current, group, version, action, from)?;
        let recorded = Rollout {
            deployment: deployment.clone(),
            phase: RolloutPhase::Recorded,
            serving: None,
            detail: Some(format!("registered {}", short(&arn))),
        };
        progress(&recorded);
        if let Err(e) = self.update_service(Some(&arn), None) {
            // Never run: not a deployment of the history.
            self.deregister(&arn);
            return Err(e);
        }
        let mut event = AuditEvent::new(format!("deploy.{}", action.name()), &self.config.name)
            .after(model_version(group, version));
        event.before = before.map(|d| model_version(&d.group, d.version));
        self.audit.append_audit(&event)?;
        let followed = follow(&self.ecs, &self.config, &arn, recorded, progress);
        if followed.is_err() && self.service()?.task_definition() != Some(arn.as_str()) {
            // Rolled back by the circuit breaker: the history keeps what
            // ran (the audit trail keeps the attempt).
            self.deregister(&arn);
        }
        followed
    }

    fn start_endpoint(&self, _options: &EndpointOptions) -> Result<EndpointStatus> {
        let desired = self.config.desired_count.max(1);
        let before = self.service()?.desired_count;
        self.update_service(None, Some(desired))?;
        self.audit.append_audit(
            &AuditEvent::new("endpoint.start", &self.config.name)
                .before(format!("{before} tasks"))
                .after(format!("{desired} tasks")),
        )?;
        let timeout = Duration::from_secs(self.config.rollout_timeout_s);
        let started = Instant::now();
        loop {
            let status = self.endpoint_status()?;
            let up = status
                .tasks
                .is_some_and(|t| t.running >= t.desired && t.desired > 0);
            if up || started.elapsed() >= timeout {
                return Ok(status);
            }
            std::thread::sleep(Duration::from_secs(self.config.poll_s.max(1)));
        }
    }

    fn stop_endpoint(&self) -> Result<EndpointStopped> {
        let before = self.service()?.desired_count;
        self.update_service(None, Some(0))?;
        self.audit.append_audit(
            &AuditEvent::new("endpoint.stop", &self.config.name)
                .before(format!("{before} tasks"))
                .after("0 tasks"),
        )?;
        Ok(EndpointStopped {
            running: false,
            stopped: before > 0,
            url: self.config.url.clone(),
        })
    }

    fn endpoint_status(&self) -> Result<EndpointStatus> {
        let service = self.service()?;
        let primary = service
            .deployments()
            .iter()
            .find(|d| d.status.as_deref() == Some("PRIMARY"));
        // The revision the service is set to run (its PRIMARY deployment's
        // once ECS has started it).
        let arn = service
            .task_definition
            .clone()
            .or_else(|| primary.and_then(|d| d.task_definition.clone()));
        let td = match &arn {
            Some(a) => Some(self.task_definition(a)?),
            None => None,
        };
        let serving = td
            .as_ref()
            .and_then(|t| self.deployment_of(t))
            .map(|d| Serving {
                group: d.group,
                version: d.version,
            });
        let uptime_seconds = primary
            .and_then(|d| d.created_at())
            .and_then(|t| u64::try_from(chrono::Utc::now().timestamp() - t.secs()).ok());
        Ok(EndpointStatus {
            running: service.running_count > 0,
            url: self.config.url.clone(),
            pid: None,
            serving,
            uptime_seconds: if service.running_count > 0 {
                uptime_seconds
            } else {
                None
            },
            log: Some(format!("CloudWatch Logs {}", self.config.log_group)),
            tasks: Some(TaskCounts {
                running: service.running_count.max(0) as u32,
                desired: service.desired_count.max(0) as u32,
                pending: service.pending_count.max(0) as u32,
            }),
            revision: arn.as_deref().map(|a| short(a).to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_versions_round_trip() {
        assert_eq!(
            parse_model_version("churn/v12"),
            Some(Serving {
                group: "churn".into(),
                version: 12
            })
        );
        assert_eq!(
            parse_model_version(&model_version("a/b", 3)).map(|s| s.version),
            Some(3)
        );
        assert_eq!(parse_model_version("churn"), None);
        assert_eq!(parse_model_version("churn/vx"), None);
    }
}
