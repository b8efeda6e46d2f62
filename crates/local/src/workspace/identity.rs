//! Who acts in a workspace: roles from `tablero.toml`, switching users,
//! the four-eyes policy, and the audit log.

use std::collections::BTreeMap;
use std::sync::Arc;

use tablero_core::ports::{Action, AuditEvent, Identity, Limits, Policy};

use super::{stamp_of, Loaded, Workspace};
use crate::config::{Config, Role};
use crate::error::{Error, Result};
use crate::folder::write_atomic;

impl Workspace {
    /// Refuses unless the actor holds `role` (the error names the role).
    pub fn require_role(&self, role: Role, action: &str) -> Result<()> {
        self.require_any(&[role], action)
    }

    fn require_any(&self, roles: &[Role], action: &str) -> Result<()> {
        let config = self.config();
        let actor = self.actor();
        if roles.iter().any(|r| config.has_role(&actor, *r)) {
            return Ok(());
        }
        Err(Error::Permission {
            actor,
            action: action.into(),
            role: roles
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(" or "),
            config: self.config_path().display().to_string(),
        })
    }

    /// Checks that the actor may become `user` and does.
    pub(super) fn become_user(&self, user: &str) -> Result<()> {
        if user != self.os_user {
            let config = self.config();
            if !config.policy.allow_as {
                return Err(Error::Refused(format!(
                    "--as is off in this workspace ([policy] allow_as = false in {})",
                    self.config_path().display()
                )));
            }
            if !config.roles.contains_key(user) {
                return Err(Error::Refused(format!(
                    "{user} is not a user of this workspace (see [roles] in {})",
                    self.config_path().display()
                )));
            }
        }
        if let Ok(mut actor) = self.actor.write() {
            *actor = user.to_string();
        }
        Ok(())
    }

    /// Turns the four-eyes rule on or off (audited).
    pub fn set_four_eyes(&self, on: bool) -> Result<()> {
        let mut config = (*self.config()).clone();
        let before = config.policy.four_eyes;
        config.policy.four_eyes = on;
        let text = config.to_toml();
        write_atomic(
            &self.store.staging_path(),
            &self.config_path(),
            text.as_bytes(),
            &|_, _| {},
        )?;
        if let Ok(mut loaded) = self.loaded.write() {
            *loaded = Loaded {
                config: Arc::new(config.clone()),
                stamp: stamp_of(&self.config_path()),
            };
        }
        self.audit(
            &AuditEvent::new("policy.four_eyes", "tablero.toml")
                .before(if before { "on" } else { "off" })
                .after(if on { "on" } else { "off" }),
        )?;
        self.remember_policy(&config.policy)
    }

    fn remember_policy(&self, policy: &Policy) -> Result<()> {
        let p = serde_json::to_string(policy).map_err(|e| Error::Refused(e.to_string()))?;
        self.db.set_setting("policy", &p)
    }

    /// Records in the audit log a policy changed by editing tablero.toml by hand.
    pub(super) fn audit_policy_edits(&self, config: &Config) -> Result<()> {
        let now =
            serde_json::to_string(&config.policy).map_err(|e| Error::Refused(e.to_string()))?;
        match self.db.setting("policy")? {
            Some(before) if before != now => {
                self.audit(
                    &AuditEvent::new("policy.edited", "tablero.toml")
                        .before(before.as_str())
                        .after(now.as_str()),
                )?;
                self.db.set_setting("policy", &now)
            }
            Some(_) => Ok(()),
            None => self.db.set_setting("policy", &now),
        }
    }

    /// Appends `event` to the audit log for the acting user.
    pub(crate) fn audit(&self, event: &AuditEvent) -> Result<()> {
        if let Some(r) = self.remote() {
            return Ok(r.audit.append_audit(event)?);
        }
        self.db.audit(&self.actor(), &self.os_user, event)
    }
}

impl tablero_core::ports::Audit for Workspace {
    fn append_audit(
        &self,
        event: &tablero_core::ports::AuditEvent,
    ) -> tablero_core::ports::Result<()> {
        Ok(self.audit(event)?)
    }

    fn audit_since(
        &self,
        since: &str,
    ) -> tablero_core::ports::Result<Vec<tablero_core::ports::AuditEntry>> {
        Ok(self.db.audit_since(since)?)
    }
}

impl Identity for Workspace {
    fn actor(&self) -> String {
        Workspace::actor(self)
    }

    fn os_user(&self) -> String {
        self.os_user.clone()
    }

    fn users(&self) -> BTreeMap<String, Vec<Role>> {
        self.config().roles.clone()
    }

    fn policy(&self) -> Policy {
        self.config().policy.clone()
    }

    fn limits(&self) -> Limits {
        self.config().limits.clone()
    }

    fn authorize(&self, action: Action) -> tablero_core::ports::Result<()> {
        Ok(self.require_any(action.roles(), action.describe())?)
    }

    fn switch_user(&self, user: &str) -> tablero_core::ports::Result<()> {
        Ok(self.become_user(user)?)
    }

    fn set_four_eyes(&self, on: bool) -> tablero_core::ports::Result<()> {
        Ok(Workspace::set_four_eyes(self, on)?)
    }
}
