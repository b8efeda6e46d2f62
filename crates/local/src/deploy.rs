//! API keys for the endpoint and the local deployer: which approved model
//! version the local endpoint serves, promotion, rollback and history.

use rusqlite::{params, OptionalExtension};
use tablero_core::ports::{
    self, key_hash, ApiKey, ApiKeys, AuditEvent, DeployAction, Deployer, Deployment,
    EndpointOptions, EndpointStatus, EndpointStopped, Rollout, RolloutPhase,
};

use crate::db::{insert_audit, now};
use crate::error::{Error, Result};
use crate::workspace::Workspace;

/// The local endpoint's name in deployments and metrics.
pub const LOCAL_ENDPOINT: &str = "local";

/// Default per-key rate limit, requests per second.
pub use tablero_core::ports::DEFAULT_RATE;

fn deployment_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Deployment> {
    Ok(Deployment {
        seq: r.get(0)?,
        endpoint: r.get(1)?,
        group: r.get(2)?,
        version: r.get(3)?,
        from_version: r.get(4)?,
        action: crate::db::named(r, 5)?,
        actor: r.get(6)?,
        at: r.get(7)?,
    })
}

const DEPLOY_SELECT: &str =
    "SELECT seq, endpoint, group_name, version, from_version, action, actor, at FROM deployments";

impl Workspace {
    /// Creates an API key; returns the key, shown once. Only its SHA-256 is
    /// stored.
    fn new_key(&self, name: &str, rate: f64) -> Result<String> {
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
            insert_audit(
                conn,
                &self.actor(),
                self.os_user(),
                &AuditEvent::new("key.create", name).after(format!("{rate} req/s")),
            )
        })?;
        Ok(key)
    }

    /// All keys, revoked ones included.
    fn all_keys(&self) -> Result<Vec<ApiKey>> {
        let conn = self.db().conn()?;
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

    /// Revokes a key; the endpoint refuses it within a second.
    fn revoke(&self, name: &str) -> Result<()> {
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
                &self.actor(),
                self.os_user(),
                &AuditEvent::new("key.revoke", name)
                    .before("active")
                    .after("revoked"),
            )
        })
    }

    /// Deployment history of the local endpoint, newest first.
    pub(crate) fn history(&self) -> Result<Vec<Deployment>> {
        let conn = self.db().conn()?;
        let mut st = conn.prepare(&format!(
            "{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC"
        ))?;
        let rows = st.query_map([LOCAL_ENDPOINT], deployment_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The version the local endpoint should serve (the latest deployment).
    pub(crate) fn current_deployment(&self) -> Result<Option<Deployment>> {
        Ok(self
            .db()
            .conn()?
            .query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .optional()?)
    }

    fn record_deployment(&self, group: &str, version: u32, action: &str) -> Result<Deployment> {
        let actor = self.actor();
        let mut remote_event = None;
        let recorded = self.db().immediate(|conn| {
            let current: Option<(String, u32)> = conn
                .query_row(
                    "SELECT group_name, version FROM deployments WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1",
                    [LOCAL_ENDPOINT],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let from = current.as_ref().filter(|(g, _)| g == group).map(|(_, v)| *v);
            conn.execute(
                "INSERT INTO deployments (endpoint, group_name, version, from_version, action, actor, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![LOCAL_ENDPOINT, group, version, from, action, actor, now()],
            )?;
            let before = current.map(|(g, v)| format!("{g}/v{v}"));
            let mut event = AuditEvent::new(format!("deploy.{action}"), LOCAL_ENDPOINT)
                .after(format!("{group}/v{version}"));
            event.before = before;
            match self.remote() {
                // The other backend's trail: written once the row is, below.
                Some(_) => remote_event = Some(event),
                None => insert_audit(conn, &actor, self.os_user(), &event)?,
            }
            conn.query_row(
                &format!("{DEPLOY_SELECT} WHERE endpoint = ?1 ORDER BY seq DESC LIMIT 1"),
                [LOCAL_ENDPOINT],
                deployment_from_row,
            )
            .map_err(Error::from)
        })?;
        if let Some(event) = remote_event {
            self.audit(&event)?;
        }
        Ok(recorded)
    }
}

/// The rollout of a recorded deployment: the running endpoint, if any, is
/// asked to load it.
fn roll_out(
    ws: &Workspace,
    deployment: Deployment,
    progress: &dyn Fn(&Rollout),
) -> Result<Rollout> {
    let recorded = Rollout {
        deployment,
        phase: RolloutPhase::Recorded,
        serving: None,
        detail: None,
    };
    progress(&recorded);
    let done = match crate::endpoint::notify(ws.root())? {
        Some(serving) => Rollout {
            phase: RolloutPhase::Completed,
            serving,
            ..recorded
        },
        None => Rollout {
            phase: RolloutPhase::NotRunning,
            ..recorded
        },
    };
    progress(&done);
    Ok(done)
}

impl Deployer for Workspace {
    fn deployed(&self) -> ports::Result<Option<Deployment>> {
        Ok(self.current_deployment()?)
    }

    fn deployments(&self) -> ports::Result<Vec<Deployment>> {
        Ok(self.history()?)
    }

    fn deploy(
        &self,
        group: &str,
        version: u32,
        action: DeployAction,
        progress: &dyn Fn(&Rollout),
    ) -> ports::Result<Rollout> {
        let d = self.record_deployment(group, version, action.name())?;
        Ok(roll_out(self, d, progress)?)
    }

    fn start_endpoint(&self, options: &EndpointOptions) -> ports::Result<EndpointStatus> {
        Ok(self.start(options)?)
    }

    fn stop_endpoint(&self) -> ports::Result<EndpointStopped> {
        Ok(self.stop()?)
    }

    fn endpoint_status(&self) -> ports::Result<EndpointStatus> {
        Ok(self.status()?)
    }
}

impl ApiKeys for Workspace {
    fn create_key(&self, name: &str, rate: f64) -> ports::Result<String> {
        Ok(self.new_key(name, rate)?)
    }

    fn api_keys(&self) -> ports::Result<Vec<ApiKey>> {
        Ok(self.all_keys()?)
    }

    fn revoke_key(&self, name: &str) -> ports::Result<()> {
        Ok(self.revoke(name)?)
    }
}
