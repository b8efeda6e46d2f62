//! The model registry on the SageMaker Model Registry: one model package
//! group per Tablero group (`[aws] model_package_group` for `default`),
//! each version a model package. Its approval status is SageMaker's; its
//! headline metrics and Tablero's record (the creator's role and session
//! name, where the card and artifact are) are CustomerMetadataProperties;
//! the card, the artifact and a summary live in the models bucket under
//! `registry/<group>/<id>/`.
//!
//! SageMaker has no conditional update, so a decision is first claimed by
//! writing `decision.json` beside the card with `If-None-Match: *`: of two
//! racing decisions exactly one claims it and updates SageMaker; the other
//! sees the version already decided. The update always resends the whole
//! CustomerMetadataProperties (an update without them clears them).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use aws_sdk_sagemaker::types::{ModelApprovalStatus, ModelPackageSortBy, SortOrder};
use serde::{Deserialize, Serialize};
use tablero_core::job::ObjectRef;
use tablero_core::ports::{
    put_bytes, Audit, AuditEvent, BackendError, ObjectStore, Registry, Result,
};
use tablero_core::registry::{check_group, ApprovalStatus, Decided, Decision, ModelVersion};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::metrics::Metric;
use tablero_core::train::model::{ModelArtifact, ModelCard};
use tablero_core::train::models::Algorithm;
use tablero_core::train::{Holdout, LeakageFlag};

use crate::clients::{now, random_id};
use crate::config::AwsConfig;
use crate::error::{fail, parts};
use crate::runtime::block_on;
use crate::s3::S3Store;

/// What is kept beside each version's card: what `models ls` shows.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Summary {
    algorithm: Algorithm,
    cv_accuracy: f64,
    cv_auc: f64,
    holdout: Holdout,
    leakage: Vec<LeakageFlag>,
    dataset_uri: String,
    dataset_sha256: String,
}

/// A decision claimed in the models bucket.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claimed {
    status: ApprovalStatus,
    by: String,
    at: String,
    comment: String,
}

/// One model package as SageMaker describes it.
#[derive(Debug, Clone)]
struct Package {
    arn: String,
    version: u32,
    status: Option<ApprovalStatus>,
    description: Option<String>,
    created_at: String,
    props: HashMap<String, String>,
}

const P_CREATED_BY: &str = "tablero:created-by";
const P_CREATED_AT: &str = "tablero:created-at";
const P_PREFIX: &str = "tablero:prefix";
const P_DECIDED_BY: &str = "tablero:decided-by";
const P_DECIDED_AT: &str = "tablero:decided-at";

/// The registry on SageMaker.
pub struct SageMakerRegistry {
    sagemaker: aws_sdk_sagemaker::Client,
    store: S3Store,
    config: AwsConfig,
    audit: Arc<dyn Audit>,
    summaries: Mutex<HashMap<String, Summary>>,
}

fn status_of(s: Option<&ModelApprovalStatus>) -> Option<ApprovalStatus> {
    ApprovalStatus::from_name(s?.as_str())
}

fn sm_status(s: ApprovalStatus) -> ModelApprovalStatus {
    ModelApprovalStatus::from(s.name())
}

/// Whether an error says the model package group does not exist
/// (SageMaker answers ValidationException, moto 404).
fn is_missing_group<E: aws_sdk_sagemaker::error::ProvideErrorMetadata>(
    e: &aws_smithy_runtime_api::client::result::SdkError<
        E,
        aws_smithy_runtime_api::client::orchestrator::HttpResponse,
    >,
) -> bool {
    crate::error::is_not_found(e) || parts(e).0.as_deref() == Some("ValidationException")
}

/// The ARN of the SageMaker group `name`; `None` when it does not exist.
pub(crate) async fn group_arn(
    sm: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<Option<String>> {
    let what = format!("read the model package group {name}");
    match sm
        .describe_model_package_group()
        .model_package_group_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.model_package_group_arn().map(str::to_string)),
        Err(e) if is_missing_group(&e) => Ok(None),
        Err(e) => Err(fail("sagemaker:DescribeModelPackageGroup", &what)(e)),
    }
}

/// Creates the SageMaker group when it does not exist; returns its ARN.
pub(crate) async fn ensure_group(sm: &aws_sdk_sagemaker::Client, name: &str) -> Result<String> {
    if let Some(arn) = group_arn(sm, name).await? {
        return Ok(arn);
    }
    let what = format!("create the model package group {name}");
    match sm
        .create_model_package_group()
        .model_package_group_name(name)
        .model_package_group_description("Tablero model versions")
        .send()
        .await
    {
        Ok(out) => Ok(out
            .model_package_group_arn()
            .unwrap_or_default()
            .to_string()),
        // Created meanwhile by someone else: use it.
        Err(e) => match group_arn(sm, name).await {
            Ok(Some(arn)) => Ok(arn),
            _ => Err(fail("sagemaker:CreateModelPackageGroup", &what)(e)),
        },
    }
}

impl SageMakerRegistry {
    /// The registry of `config`'s groups, cards and artifacts in `store`.
    pub fn new(
        sagemaker: aws_sdk_sagemaker::Client,
        store: S3Store,
        config: AwsConfig,
        audit: Arc<dyn Audit>,
    ) -> SageMakerRegistry {
        SageMakerRegistry {
            sagemaker,
            store,
            config,
            audit,
            summaries: Mutex::new(HashMap::new()),
        }
    }

    fn missing(group: &str, version: u32) -> BackendError {
        BackendError::refused(format!(
            "model version {version} does not exist in group {group} (list with `tablero models ls --group {group}`)"
        ))
    }

    /// Every package of a group, newest first.
    /// Every package of a group: (version, ARN), from the listing alone.
    fn listed(&self, group: &str) -> Result<Vec<(u32, String)>> {
        let (sm, name) = (self.sagemaker.clone(), self.config.sagemaker_group(group));
        block_on(async move {
            let what = format!("list the versions of {name}");
            let mut listed = Vec::new();
            let mut token = None;
            loop {
                let out = sm
                    .list_model_packages()
                    .model_package_group_name(&name)
                    .sort_by(ModelPackageSortBy::CreationTime)
                    .sort_order(SortOrder::Descending)
                    .max_results(100)
                    .set_next_token(token)
                    .send()
                    .await;
                let out = match out {
                    Ok(o) => o,
                    // No group yet: no versions.
                    Err(e) if is_missing_group(&e) => return Ok(Vec::new()),
                    Err(e) => return Err(fail("sagemaker:ListModelPackages", &what)(e)),
                };
                listed.extend(out.model_package_summary_list().iter().filter_map(|s| {
                    Some((
                        s.model_package_version()?.max(0) as u32,
                        s.model_package_arn()?.to_string(),
                    ))
                }));
                match out.next_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
            Ok(listed)
        })
    }

    /// Every package of a group, described, newest first.
    fn packages(&self, group: &str) -> Result<Vec<Package>> {
        let listed = self.listed(group)?;
        let sm = self.sagemaker.clone();
        block_on(async move {
            let mut tasks = tokio::task::JoinSet::new();
            for (_, arn) in listed {
                let sm = sm.clone();
                tasks.spawn(async move { describe(&sm, &arn).await });
            }
            let mut out = Vec::new();
            while let Some(done) = tasks.join_next().await {
                out.push(done.map_err(|e| {
                    BackendError::refused(format!("reading a model package stopped: {e}"))
                })??);
            }
            out.sort_by_key(|p: &Package| std::cmp::Reverse(p.version));
            Ok(out)
        })
    }

    /// One package, described (the others are not).
    fn package(&self, group: &str, version: u32) -> Result<Package> {
        let (_, arn) = self
            .listed(group)?
            .into_iter()
            .find(|(v, _)| *v == version)
            .ok_or_else(|| Self::missing(group, version))?;
        let sm = self.sagemaker.clone();
        block_on(async move { describe(&sm, &arn).await })
    }

    fn summary(&self, prefix: &str) -> Result<Summary> {
        if let Some(s) = self
            .summaries
            .lock()
            .ok()
            .and_then(|m| m.get(prefix).cloned())
        {
            return Ok(s);
        }
        let bytes = self.store.read(
            Bucket::Models,
            &ObjectKey::new(&format!("{prefix}/summary.json"))?,
        )?;
        let s: Summary = serde_json::from_slice(&bytes).map_err(|e| {
            BackendError::refused(format!("{prefix}/summary.json is unreadable: {e}"))
        })?;
        if let Ok(mut m) = self.summaries.lock() {
            m.insert(prefix.to_string(), s.clone());
        }
        Ok(s)
    }

    /// The decision claimed on a version, and the claim's ETag.
    fn claimed(&self, prefix: &str) -> Result<Option<(Claimed, String)>> {
        Ok(self
            .store
            .read_tagged(Bucket::Models, &format!("{prefix}/decision.json"))?
            .and_then(|(bytes, etag)| Some((serde_json::from_slice(&bytes).ok()?, etag))))
    }

    fn to_version(&self, group: &str, p: &Package) -> Result<ModelVersion> {
        let prefix = p.props.get(P_PREFIX).cloned().ok_or_else(|| {
            BackendError::refused(format!(
                "version {} of {} was not registered by Tablero (no {P_PREFIX} property)",
                p.version, group
            ))
        })?;
        let s = self.summary(&prefix)?;
        // SageMaker's status is the truth; a claim only orders deciders.
        let status = p.status.unwrap_or(ApprovalStatus::PendingManualApproval);
        let decided_by = p.props.get(P_DECIDED_BY).cloned();
        let decided_at = p.props.get(P_DECIDED_AT).cloned();
        let comment = p.description.clone().filter(|_| decided_by.is_some());
        Ok(ModelVersion {
            group: group.to_string(),
            version: p.version,
            status,
            created_by: p.props.get(P_CREATED_BY).cloned().unwrap_or_default(),
            created_at: p
                .props
                .get(P_CREATED_AT)
                .cloned()
                .unwrap_or_else(|| p.created_at.clone()),
            artifact: ObjectRef {
                bucket: Bucket::Models,
                key: format!("{prefix}/model.json"),
            },
            card: ObjectRef {
                bucket: Bucket::Models,
                key: format!("{prefix}/card.json"),
            },
            dataset_uri: s.dataset_uri,
            dataset_sha256: s.dataset_sha256,
            algorithm: s.algorithm,
            cv_accuracy: s.cv_accuracy,
            cv_auc: s.cv_auc,
            holdout: s.holdout,
            leakage: s.leakage,
            decided_by,
            decided_at,
            comment,
        })
    }
}

async fn describe(sm: &aws_sdk_sagemaker::Client, arn: &str) -> Result<Package> {
    let what = format!("read model package {arn}");
    let d = sm
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .map_err(fail("sagemaker:DescribeModelPackage", &what))?;
    Ok(Package {
        arn: arn.to_string(),
        version: d.model_package_version().unwrap_or(0).max(0) as u32,
        status: status_of(d.model_approval_status()),
        description: d.approval_description().map(str::to_string),
        created_at: crate::clients::rfc3339(d.creation_time()),
        props: d
            .customer_metadata_properties()
            .cloned()
            .unwrap_or_default(),
    })
}

/// A claim older than a minute whose decision SageMaker never recorded.
fn stale(at: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| chrono::Utc::now().signed_duration_since(t) > chrono::Duration::seconds(60))
        .unwrap_or(true)
}

fn num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.6}")
    } else {
        "NaN".into()
    }
}

impl Registry for SageMakerRegistry {
    fn register(&self, group: &str, mut card: ModelCard, artifact: &[u8]) -> Result<ModelVersion> {
        check_group(group)?;
        let name = self.config.sagemaker_group(group);
        let prefix = format!("registry/{group}/{}", random_id());
        let summary = Summary {
            algorithm: card.evaluation.winner,
            cv_accuracy: card.evaluation.winner_mean(Metric::Accuracy),
            cv_auc: card.evaluation.winner_mean(Metric::Auc),
            holdout: card.evaluation.holdout.clone(),
            leakage: card.evaluation.leakage.clone(),
            dataset_uri: card.dataset.uri.clone(),
            dataset_sha256: card.dataset.sha256.clone(),
        };
        card.group = group.to_string();
        let created_at = now();
        let props: HashMap<String, String> = HashMap::from([
            (P_CREATED_BY.into(), card.trained_by.clone()),
            (P_CREATED_AT.into(), created_at.clone()),
            (P_PREFIX.into(), prefix.clone()),
            (
                "tablero:algorithm".into(),
                summary.algorithm.id().to_string(),
            ),
            ("tablero:cv-auc".into(), num(summary.cv_auc)),
            ("tablero:cv-accuracy".into(), num(summary.cv_accuracy)),
            ("tablero:holdout-auc".into(), num(summary.holdout.auc)),
            (
                "tablero:holdout-accuracy".into(),
                num(summary.holdout.accuracy),
            ),
            (
                "tablero:leakage-flags".into(),
                summary.leakage.len().to_string(),
            ),
        ]);
        let meta = BTreeMap::from([("model_group".to_string(), group.to_string())]);
        let json = |v: &dyn erased::Json| v.to_vec();
        let mut written = Vec::new();
        let result = (|| -> Result<Package> {
            for (file, bytes) in [
                ("model.json", artifact.to_vec()),
                ("summary.json", json(&summary)?),
                ("card.json", json(&card)?),
            ] {
                let key = ObjectKey::new(&format!("{prefix}/{file}"))?;
                put_bytes(&self.store, Bucket::Models, &key, &bytes, &meta)?;
                written.push(key);
            }
            let (sm, name, props) = (self.sagemaker.clone(), name.clone(), props.clone());
            let description = format!("{} trained by {}", summary.algorithm.id(), card.trained_by);
            block_on(async move {
                ensure_group(&sm, &name).await?;
                let what = format!("register a version in {name}");
                let out = sm
                    .create_model_package()
                    .model_package_group_name(&name)
                    .model_package_description(description)
                    .model_approval_status(ModelApprovalStatus::PendingManualApproval)
                    .set_customer_metadata_properties(Some(props))
                    .send()
                    .await
                    .map_err(fail("sagemaker:CreateModelPackage", &what))?;
                let arn = out.model_package_arn().unwrap_or_default().to_string();
                describe(&sm, &arn).await
            })
        })();
        let package = match result {
            Ok(p) => p,
            Err(e) => {
                for key in written {
                    let _ = self.store.delete(Bucket::Models, &key);
                }
                return Err(e);
            }
        };
        self.audit.append_audit(
            &AuditEvent::new("model.register", format!("{group}/v{}", package.version))
                .after("PendingManualApproval"),
        )?;
        self.to_version(group, &package)
    }

    fn versions(&self, group: &str, status: Option<ApprovalStatus>) -> Result<Vec<ModelVersion>> {
        let mut out = Vec::new();
        for p in self.packages(group)? {
            if !p.props.contains_key(P_PREFIX) {
                continue; // registered outside Tablero
            }
            let v = self.to_version(group, &p)?;
            if status.is_none_or(|s| s == v.status) {
                out.push(v);
            }
        }
        Ok(out)
    }

    fn version(&self, group: &str, version: u32) -> Result<ModelVersion> {
        let p = self.package(group, version)?;
        self.to_version(group, &p)
    }

    fn card(&self, group: &str, version: u32) -> Result<ModelCard> {
        let v = self.version(group, version)?;
        let bytes = self
            .store
            .read(Bucket::Models, &ObjectKey::new(&v.card.key)?)?;
        let mut card: ModelCard = serde_json::from_slice(&bytes)
            .map_err(|e| BackendError::refused(format!("stored model card is unreadable: {e}")))?;
        card.group = group.to_string();
        card.version = version;
        Ok(card)
    }

    fn artifact(&self, group: &str, version: u32) -> Result<ModelArtifact> {
        let v = self.version(group, version)?;
        let bytes = self
            .store
            .read(Bucket::Models, &ObjectKey::new(&v.artifact.key)?)?;
        Ok(ModelArtifact::from_bytes(&bytes)?)
    }

    fn decide(&self, group: &str, version: u32, decision: &Decision) -> Result<Decided> {
        let p = self.package(group, version)?;
        let v = self.to_version(group, &p)?;
        if v.status != ApprovalStatus::PendingManualApproval {
            return Ok(Decided::AlreadyDecided(v));
        }
        let prefix = p.props.get(P_PREFIX).cloned().unwrap_or_default();
        let at = now();
        let claim = Claimed {
            status: decision.status,
            by: decision.by.clone(),
            at: at.clone(),
            comment: decision.comment.clone(),
        };
        let bytes = serde_json::to_vec(&claim).map_err(|e| BackendError::refused(e.to_string()))?;
        let claim_key = format!("{prefix}/decision.json");
        let won = self
            .store
            .put_if_absent(Bucket::Models, &claim_key, bytes.clone())?
            || {
                // Claimed before: decided since, being decided now, or a claim
                // whose decider stopped before SageMaker recorded it (stale
                // after a minute, then taken over, atomically by its ETag).
                let current = self.version(group, version)?;
                if current.status != ApprovalStatus::PendingManualApproval {
                    return Ok(Decided::AlreadyDecided(current));
                }
                match self.claimed(&prefix)? {
                Some((c, etag)) if stale(&c.at) => {
                    self.store.put_if_match(Bucket::Models, &claim_key, bytes, &etag)?
                }
                Some((c, _)) => {
                    return Err(BackendError::refused(format!(
                        "{} is recording a decision on version {version} of {group} (since {}); try again in a minute",
                        c.by, c.at
                    )))
                }
                None => self.store.put_if_absent(Bucket::Models, &claim_key, bytes)?,
            }
            };
        if !won {
            return Err(BackendError::refused(format!(
                "another decision on version {version} of {group} is being recorded; try again in a minute"
            )));
        }
        let mut props = p.props.clone();
        props.insert(P_DECIDED_BY.into(), decision.by.clone());
        props.insert(P_DECIDED_AT.into(), at);
        let (sm, arn, status, comment) = (
            self.sagemaker.clone(),
            p.arn.clone(),
            decision.status,
            decision.comment.clone(),
        );
        block_on(async move {
            let what = format!("record the decision on {arn}");
            sm.update_model_package()
                .model_package_arn(&arn)
                .model_approval_status(sm_status(status))
                .approval_description(comment)
                .set_customer_metadata_properties(Some(props))
                .send()
                .await
                .map_err(fail("sagemaker:UpdateModelPackage", &what))?;
            Ok(())
        })
        .inspect_err(|_| {
            // Not applied: give the claim back so the decision can be
            // retried (if this fails too, the claim goes stale in a minute).
            if let Ok(k) = ObjectKey::new(&format!("{prefix}/decision.json")) {
                let _ = self.store.delete(Bucket::Models, &k);
            }
        })?;
        let action = match decision.status {
            ApprovalStatus::Approved => "model.approve",
            _ => "model.reject",
        };
        let mut event = AuditEvent::new(action, format!("{group}/v{version}"))
            .before(v.status.name())
            .after(decision.status.name());
        event.comment = Some(decision.comment.clone());
        self.audit.append_audit(&event)?;
        Ok(Decided::Recorded(self.version(group, version)?))
    }
}

mod erased {
    use tablero_core::ports::{BackendError, Result};

    /// Serialises to JSON bytes (object-safe).
    pub trait Json {
        fn to_vec(&self) -> Result<Vec<u8>>;
    }

    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> Result<Vec<u8>> {
            serde_json::to_vec_pretty(self).map_err(|e| BackendError::refused(e.to_string()))
        }
    }
}
