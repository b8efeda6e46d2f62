//! The model registry on SQLite: registration at the end of a training job,
//! approval and rejection under the workspace's roles and four-eyes rule.
//! Every decision is a `BEGIN IMMEDIATE` transaction that re-reads the
//! version, so two concurrent approvals end in one consistent state.

use std::collections::BTreeMap;

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use tablero_core::job::ObjectRef;
use tablero_core::ports::{self, put_bytes, AuditEvent, ObjectStore, Registry};
use tablero_core::registry::{ApprovalStatus, Decided, Decision, ModelVersion};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::metrics::Metric;
use tablero_core::train::model::{ModelArtifact, ModelCard};
use tablero_core::train::models::Algorithm;
use tablero_core::train::{Holdout, LeakageFlag};

use crate::db::{insert_audit, now};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The summary stored beside each version (what `models ls` shows).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Summary {
    algorithm: Algorithm,
    cv_accuracy: f64,
    cv_auc: f64,
    holdout: Holdout,
    leakage: Vec<LeakageFlag>,
}

const SELECT: &str =
    "SELECT group_name, version, status, created_by, created_at, artifact_key, card_key,
    dataset_uri, dataset_sha256, summary, decided_by, decided_at, comment FROM model_versions";

fn version_from_row(r: &Row<'_>) -> rusqlite::Result<ModelVersion> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("bad {what}").into(),
        )
    };
    let status: String = r.get(2)?;
    let summary: String = r.get(9)?;
    let summary: Summary = serde_json::from_str(&summary).map_err(|_| bad(9, "summary"))?;
    Ok(ModelVersion {
        group: r.get(0)?,
        version: r.get(1)?,
        status: ApprovalStatus::from_name(&status).ok_or_else(|| bad(2, "status"))?,
        created_by: r.get(3)?,
        created_at: r.get(4)?,
        artifact: ObjectRef {
            bucket: Bucket::Models,
            key: r.get(5)?,
        },
        card: ObjectRef {
            bucket: Bucket::Models,
            key: r.get(6)?,
        },
        dataset_uri: r.get(7)?,
        dataset_sha256: r.get(8)?,
        algorithm: summary.algorithm,
        cv_accuracy: summary.cv_accuracy,
        cv_auc: summary.cv_auc,
        holdout: summary.holdout,
        leakage: summary.leakage,
        decided_by: r.get(10)?,
        decided_at: r.get(11)?,
        comment: r.get(12)?,
    })
}

fn find(conn: &Connection, group: &str, version: u32) -> Result<ModelVersion> {
    conn.query_row(
        &format!("{SELECT} WHERE group_name = ?1 AND version = ?2"),
        params![group, version],
        version_from_row,
    )
    .optional()?
    .ok_or_else(|| Error::Refused(format!(
        "model version {version} does not exist in group {group} (list with `tablero models ls --group {group}`)"
    )))
}

impl Workspace {
    /// Registers a trained model as the next version of `group`, as
    /// `PendingManualApproval`: writes the artifact and card to the models
    /// bucket and records the version in one transaction. On failure nothing
    /// is registered and the written objects are removed. The audit entry
    /// names the card's trainer.
    pub(crate) fn register_version(
        &self,
        group: &str,
        mut card: ModelCard,
        artifact: &[u8],
    ) -> Result<ModelVersion> {
        tablero_core::registry::check_group(group)?;
        let summary = Summary {
            algorithm: card.evaluation.winner,
            cv_accuracy: card.evaluation.winner_mean(Metric::Accuracy),
            cv_auc: card.evaluation.winner_mean(Metric::Auc),
            holdout: card.evaluation.holdout.clone(),
            leakage: card.evaluation.leakage.clone(),
        };
        let summary = serde_json::to_string(&summary).map_err(|e| Error::Refused(e.to_string()))?;
        let written: std::cell::RefCell<Vec<ObjectKey>> = Default::default();
        let result = self.db().immediate(|conn| {
            let version: u32 = conn.query_row(
                "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE group_name = ?1",
                [group],
                |r| r.get(0),
            )?;
            card.group = group.to_string();
            card.version = version;
            let artifact_key = ObjectKey::new(&format!("{group}/v{version}/model.json"))?;
            let card_key = ObjectKey::new(&format!("{group}/v{version}/card.json"))?;
            let card_json = serde_json::to_vec_pretty(&card).map_err(|e| Error::Refused(e.to_string()))?;
            let meta = BTreeMap::from([("model_version".to_string(), format!("{group}/{version}"))]);
            put_bytes(self.store(), Bucket::Models, &artifact_key, artifact, &meta)?;
            written.borrow_mut().push(artifact_key.clone());
            put_bytes(self.store(), Bucket::Models, &card_key, &card_json, &meta)?;
            written.borrow_mut().push(card_key.clone());
            conn.execute(
                "INSERT INTO model_versions (group_name, version, status, created_by, created_at, artifact_key,
                     card_key, dataset_uri, dataset_sha256, summary, card)
                 VALUES (?1, ?2, 'PendingManualApproval', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                params![
                    group,
                    version,
                    card.trained_by,
                    now(),
                    artifact_key.as_str(),
                    card_key.as_str(),
                    card.dataset.uri,
                    card.dataset.sha256,
                    summary,
                    String::from_utf8_lossy(&card_json)
                ],
            )?;
            insert_audit(
                conn,
                &card.trained_by,
                self.os_user(),
                &AuditEvent::new("model.register", format!("{group}/v{version}"))
                    .after("PendingManualApproval"),
            )?;
            find(conn, group, version)
        });
        if result.is_err() {
            for key in written.borrow().iter() {
                let _ = std::fs::remove_file(self.store().path_of(Bucket::Models, key));
                self.store().remove_meta(Bucket::Models, key);
            }
        }
        result
    }

    /// Records a decision if the version is still pending, in one
    /// `BEGIN IMMEDIATE` transaction with its audit entry, so of two racing
    /// decisions exactly one is recorded.
    fn record_decision(&self, group: &str, version: u32, decision: &Decision) -> Result<Decided> {
        self.db().immediate(|conn| {
            let v = find(conn, group, version)?;
            if v.status != ApprovalStatus::PendingManualApproval {
                return Ok(Decided::AlreadyDecided(v));
            }
            conn.execute(
                "UPDATE model_versions SET status = ?3, decided_by = ?4, decided_at = ?5, comment = ?6
                 WHERE group_name = ?1 AND version = ?2 AND status = 'PendingManualApproval'",
                params![group, version, decision.status.name(), decision.by, now(), decision.comment],
            )?;
            let action = match decision.status {
                ApprovalStatus::Approved => "model.approve",
                _ => "model.reject",
            };
            let mut event = AuditEvent::new(action, format!("{group}/v{version}"))
                .before(v.status.name())
                .after(decision.status.name());
            event.comment = Some(decision.comment.clone());
            insert_audit(conn, &decision.by, self.os_user(), &event)?;
            Ok(Decided::Recorded(find(conn, group, version)?))
        })
    }
}

impl Workspace {
    /// Versions of a group, newest first, optionally by status.
    pub(crate) fn list_versions(
        &self,
        group: &str,
        status: Option<ApprovalStatus>,
    ) -> Result<Vec<ModelVersion>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare(&format!(
            "{SELECT} WHERE group_name = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY version DESC"
        ))?;
        let rows = st.query_map(params![group, status.map(|s| s.name())], version_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// One version.
    pub(crate) fn find_version(&self, group: &str, version: u32) -> Result<ModelVersion> {
        find(&*self.db().conn()?, group, version)
    }

    /// A version's model card.
    pub(crate) fn card_of(&self, group: &str, version: u32) -> Result<ModelCard> {
        let text: String = self
            .db()
            .conn()?
            .query_row(
                "SELECT card FROM model_versions WHERE group_name = ?1 AND version = ?2",
                params![group, version],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                Error::Refused(format!(
                    "model version {version} does not exist in group {group}"
                ))
            })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::Refused(format!("stored model card is unreadable: {e}")))
    }
}

impl Registry for Workspace {
    fn register(
        &self,
        group: &str,
        card: ModelCard,
        artifact: &[u8],
    ) -> ports::Result<ModelVersion> {
        Ok(self.register_version(group, card, artifact)?)
    }

    fn versions(
        &self,
        group: &str,
        status: Option<ApprovalStatus>,
    ) -> ports::Result<Vec<ModelVersion>> {
        Ok(self.list_versions(group, status)?)
    }

    fn version(&self, group: &str, version: u32) -> ports::Result<ModelVersion> {
        Ok(self.find_version(group, version)?)
    }

    fn card(&self, group: &str, version: u32) -> ports::Result<ModelCard> {
        Ok(self.card_of(group, version)?)
    }

    fn artifact(&self, group: &str, version: u32) -> ports::Result<ModelArtifact> {
        let v = self.find_version(group, version)?;
        let bytes = self
            .store()
            .read(Bucket::Models, &ObjectKey::new(&v.artifact.key)?)?;
        Ok(ModelArtifact::from_bytes(&bytes)?)
    }

    fn decide(&self, group: &str, version: u32, decision: &Decision) -> ports::Result<Decided> {
        Ok(self.record_decision(group, version, decision)?)
    }
}
