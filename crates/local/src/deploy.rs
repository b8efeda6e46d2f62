//! API keys for the endpoint and the local deployer: which approved model
//! version the local endpoint serves, promotion, rollback and history.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tablero_core::registry::{ApprovalStatus, ModelVersion, Registry};

use crate::config::Role;
use crate::db::{insert_audit, now};
use crate::error::{Error, Result};
use crate::workspace::{os_user, Workspace};

/// The local endpoint's name in deployments and metrics.
pub const LOCAL_ENDPOINT: &str = "local";

/// Default per-key rate limit, requests per second.
pub const DEFAULT_RATE: f64 = 1000.0;

/// An API key as listed (never the key itself).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiKey {
    /// Name.
    pub name: String,
    /// SHA-256 of the key (hex).
    pub sha256: String,
    /// Requests per second allowed.
    pub rate: f64,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: String,
    /// When it was revoked.
    pub revoked_at: Option<String>,
}

/// One promotion or rollback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Deployment {
    /// Sequence number.
    pub seq: i64,
    /// Endpoint name.
    pub endpoint: String,
    /// Model group.
    pub group: String,
    /// Version now served.
    pub version: u32,
    /// Version served before.
    pub from_version: Option<u32>,
    /// `promote` or `rollback`.
    pub action: String,
    /// Who.
    pub actor: String,
    /// When (RFC 3339, UTC).
    pub at: String,
}

/// SHA-256 (hex) of an API key.
pub fn key_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn deployment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        seq: r.get(0)?,
        endpoint: r.get(1)?,
        group: r.get(2)?,
        version: r.get(3)?,
        from_version: r.get(4)?,
        action: r.get(5)?,
        actor: r.get(6)?,
        at: r.get(7)?,
    })
}

const DEPLOY_SELECT: &str =
    "SELECT seq, endpoint, group_name, version, from_version, action, actor, at FROM deployments";

impl Workspace {
    /// Creates an API key (ops); returns the key, shown once. Only its
    /// SHA-256 is stored.
    pub fn create_key(&self, name: &str, rate: f64) -> Result<String> {
        self.require_role(Role::Ops, "create API keys")?;
        if name.is_empty()
            || name.len() > 64
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(Error::Refused(format!(
                "key name {name:?}: use 1 to 64 letters, digits, '-' or '_'"
            )));
        }
        if !(rate > 0.0 && rate.is_finite()) {
            return Err(Error::Refused(
                "--rate must be a positive number of requests per second".into(),
            ));
        }
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|e| Error::Refused(format!("no randomness available: {e}")))?;
        let key = format!(
            "tbk_{}",
            bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
        let hash = key_hash(&key);
        self.db().immediate(|conn| {
            let exists: Option<String> =
                conn.query_row("SELECT name FROM api_keys WHERE name = ?1", [name], |r| r.get(0)).optional()?;
            if exists.is_some() {
                return Err(Error::Refused(format!("a key named {name} exists; revoke it or choose another name")));
            }
            conn.execute(
                "INSERT INTO api_keys (name, sha256, rate, created_by, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![name, hash, rate, self.actor(), now()],
            )?;
            insert_audit(conn, self.actor(), &os_user(), "key.create", name, None, Some(&format!("{rate} req/s")), None)
        })?;
        Ok(key)
    }

    /// All keys, revoked ones included.
    pub fn keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.db().conn();
        let mut st = conn.prepare("SELECT name, sha256, rate, created_by, created_at, revoked_at FROM api_keys ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok(ApiKey {
                name: r.get(0)?,
                sha256: r.get(1)?,
                rate: r.get(2)?,
                created_by: r.get(3)?,
                created_at: r.get(4)?,
                revoked_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a key (ops); the endpoint refuses it within a second.
    pub fn revoke_key(&self, name: &str) -> Result<()> {
        self.require_role(Role::Ops, "revoke API keys")?;
        self.db().immediate(|conn| {
            let n = conn.execute(
                "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL",
                params![name, now()],
            )?;
            if n == 0 {
                return Err(Error::Refused(format!(
                    "no active key named {name} (list with `tablero keys ls`)"
                )));
            }
            insert_audit(
                conn,
                self.actor(),
                &os_user(),
                "key.revoke",
                name,
                Some("active"),
                Some("revoked"),
                None,
            )
        })
    }

    /// Deployment history of the local endpoint, newest first.
    pub fn deployments(&self) -> Result<Vec<Deployment>> {
        let conn = self.db().conn();
        let mut st = conn.prepare(&format!(
            "{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC"
        ))?;
        let rows = st.query_map([LOCAL_ENDPOINT], deployment_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The version the local endpoint should serve (the latest deployment).
    pub fn deployed(&self) -> Result<Option<Deployment>> {
        Ok(self
            .db()
            .conn()
            .query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .optional()?)
    }

    /// Promotes an Approved version to the local endpoint (ops).
    pub fn promote(&self, group: &str, version: u32) -> Result<Deployment> {
        let v = self.version(group, version)?;
        if let Some(refusal) = self.promotion_refusal(&v) {
            return Err(refusal);
        }
        self.record_deployment(group, version, "promote")
    }

    /// Why the acting user may not promote this version now, or `None`.
    pub fn promotion_refusal(&self, v: &ModelVersion) -> Option<Error> {
        if let Err(e) = self.require_role(Role::Ops, "promote models") {
            return Some(e);
        }
        if v.status != ApprovalStatus::Approved {
            return Some(Error::Refused(format!(
                "only Approved versions can be promoted; {} version {} is {}",
                v.group,
                v.version,
                v.status.name()
            )));
        }
        match self.deployed() {
            Ok(Some(d)) if d.group == v.group && d.version == v.version => Some(Error::Refused(
                format!("{} version {} is already deployed", v.group, v.version),
            )),
            Ok(_) => None,
            Err(e) => Some(e),
        }
    }

    /// Why the acting user may not roll back now, or `None`.
    pub fn rollback_refusal(&self) -> Option<Error> {
        self.rollback_target().err()
    }

    /// The deployment to leave and the version to return to.
    fn rollback_target(&self) -> Result<(Deployment, u32)> {
        self.require_role(Role::Ops, "roll back the endpoint")?;
        let current = self
            .deployed()?
            .ok_or_else(|| Error::Refused("nothing is deployed; promote a version first".into()))?;
        let previous = current.from_version.ok_or_else(|| {
            Error::Refused(format!(
                "{} version {} is the first deployment; there is nothing to roll back to",
                current.group, current.version
            ))
        })?;
        Ok((current, previous))
    }

    /// Returns to the version deployed before the current one (ops) — the
    /// previous deployment, not version N−1.
    pub fn rollback(&self) -> Result<Deployment> {
        let (current, previous) = self.rollback_target()?;
        self.record_deployment(&current.group, previous, "rollback")
    }

    fn record_deployment(&self, group: &str, version: u32, action: &str) -> Result<Deployment> {
        let actor = self.actor().to_string();
        self.db().immediate(|conn| {
            let current: Option<(String, u32)> = conn
                .query_row(
                    "SELECT group_name, version FROM deployments WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1",
                    [LOCAL_ENDPOINT],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let from = current.as_ref().filter(|(g, _)| g == group).map(|(_, v)| *v);
            if from == Some(version) && action == "promote" {
                return Err(Error::Refused(format!("{group} version {version} is already deployed")));
            }
            conn.execute(
                "INSERT INTO deployments (endpoint, group_name, version, from_version, action, actor, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![LOCAL_ENDPOINT, group, version, from, action, actor, now()],
            )?;
            let before = current.map(|(g, v)| format!("{g}/v{v}"));
            insert_audit(
                conn,
                &actor,
                &os_user(),
                &format!("deploy.{action}"),
                LOCAL_ENDPOINT,
                before.as_deref(),
                Some(&format!("{group}/v{version}")),
                None,
            )?;
            conn.query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .map_err(Error::from)
        })
    }

    /// Loads a registered version's artifact.
    pub fn load_artifact(
        &self,
        group: &str,
        version: u32,
    ) -> Result<tablero_core::train::model::ModelArtifact> {
        use tablero_core::store::{Bucket, ObjectKey, ObjectStore};
        let v = self.version(group, version)?;
        let bytes = self
            .store()
            .read(Bucket::Models, &ObjectKey::new(&v.artifact.key)?)?;
        Ok(tablero_core::train::model::ModelArtifact::from_bytes(
            &bytes,
        )?)
    }
}

/// A candidate against the version in production, before promoting it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PromotionDiff {
    /// The candidate.
    pub candidate: ModelVersion,
    /// The version deployed now, if any.
    pub production: Option<ModelVersion>,
    /// Holdout and CV metrics: candidate, production, candidate − production.
    pub deltas: Vec<MetricDelta>,
    /// The candidate's training data against live traffic since `since`.
    pub drift: crate::monitor::LiveDrift,
    /// Start of the live-traffic range (RFC 3339).
    pub since: String,
}

/// One metric of a promotion diff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct MetricDelta {
    /// `holdout.auc`, `cv.accuracy`, …
    pub metric: String,
    /// The candidate's value.
    pub candidate: f64,
    /// The production version's value.
    pub production: Option<f64>,
    /// `candidate − production`.
    pub delta: Option<f64>,
}

impl Workspace {
    /// What promoting `version` would change: metric deltas against the
    /// deployed version and drift between the candidate's training data and
    /// the live sample since `since` (RFC 3339). Reads only.
    pub fn promotion_diff(&self, group: &str, version: u32, since: &str) -> Result<PromotionDiff> {
        let candidate = self.version(group, version)?;
        let production = match self.deployed()? {
            Some(d) => Some(self.version(&d.group, d.version)?),
            None => None,
        };
        let mut cards = vec![self.card(group, version)?];
        if let Some(p) = &production {
            cards.push(self.card(&p.group, p.version)?);
        }
        let comparison = tablero_core::registry::compare(&cards);
        let deltas = comparison
            .metrics
            .iter()
            .map(|row| {
                let c = row.values.first().copied().unwrap_or(f64::NAN);
                let p = row.values.get(1).copied();
                MetricDelta {
                    metric: row.metric.clone(),
                    candidate: c,
                    production: p,
                    delta: p.map(|p| c - p),
                }
            })
            .collect();
        Ok(PromotionDiff {
            candidate,
            production,
            deltas,
            drift: self.live_drift(group, version, since)?,
            since: since.to_string(),
        })
    }
}
