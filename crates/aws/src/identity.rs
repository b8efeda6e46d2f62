//! Identity on AWS: the STS caller. For an assumed role the actor is the
//! role name and the session name together (`tablero-ml-lead/ana`), so
//! the four-eyes rule compares both. `[aws.roles]` maps IAM role (or user)
//! names to Tablero roles: it decides which actions the panel offers and
//! which the CLI refuses up front; IAM decides what is allowed, and its
//! refusals name the IAM permission. The four-eyes switch is shared team
//! state: a tag on the model package group.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_sagemaker::types::Tag;
use tablero_core::ports::{
    Action, Audit, AuditEvent, BackendError, ErrorKind, Identity, Limits, Policy, Result, Role,
};

use crate::error::fail;
use crate::runtime::block_on;

/// The tag on the model package group that holds the four-eyes switch.
pub const FOUR_EYES_TAG: &str = "tablero:four-eyes";

/// Who the credentials are.
#[derive(Debug, Clone, PartialEq)]
pub struct Caller {
    /// The STS ARN.
    pub arn: String,
    /// The account.
    pub account: String,
    /// The IAM role (assumed role) or user name: what `[aws.roles]` maps.
    pub principal: String,
    /// The session name of an assumed role.
    pub session: Option<String>,
    /// Who acts, for people and the audit trail: `role/session` for an
    /// assumed role, else the user name.
    pub actor: String,
}

impl Caller {
    /// The caller an STS ARN names: `assumed-role/ROLE/SESSION` is
    /// `ROLE/SESSION` (principal `ROLE`), `user/PATH/NAME` is `NAME`.
    pub fn from_arn(arn: &str, account: &str) -> Caller {
        let resource = arn.splitn(6, ':').nth(5).unwrap_or(arn);
        let parts: Vec<&str> = resource.split('/').collect();
        let (principal, session) = match parts.as_slice() {
            ["assumed-role", role, session, ..] => (role.to_string(), Some(session.to_string())),
            [_, .., name] => (name.to_string(), None),
            [name] => (name.to_string(), None),
            [] => (arn.to_string(), None),
        };
        let actor = match &session {
            Some(s) => format!("{principal}/{s}"),
            None => principal.clone(),
        };
        Caller {
            arn: arn.to_string(),
            account: account.to_string(),
            principal,
            session,
            actor,
        }
    }

    /// The caller of these credentials (STS GetCallerIdentity).
    pub fn fetch(sts: &aws_sdk_sts::Client) -> Result<Caller> {
        let sts = sts.clone();
        block_on(async move {
            let out = sts.get_caller_identity().send().await.map_err(fail(
                "sts:GetCallerIdentity",
                "find who the AWS credentials are (STS GetCallerIdentity)",
            ))?;
            let arn = out.arn().unwrap_or_default();
            Ok(Caller::from_arn(arn, out.account().unwrap_or_default()))
        })
    }
}

/// The caller, asked of STS once it answers: a backend opens without a
/// network (the panel starts and shows AWS as unreachable), and nothing
/// is written under a name STS has not confirmed.
pub struct Callers {
    sts: aws_sdk_sts::Client,
    known: std::sync::OnceLock<Arc<Caller>>,
}

impl Callers {
    /// Asks `sts` when first needed.
    pub fn new(sts: aws_sdk_sts::Client) -> Callers {
        Callers {
            sts,
            known: std::sync::OnceLock::new(),
        }
    }

    /// Already known (tests, a caller checked elsewhere).
    pub fn known(sts: aws_sdk_sts::Client, caller: Caller) -> Callers {
        let known = std::sync::OnceLock::new();
        let _ = known.set(Arc::new(caller));
        Callers { sts, known }
    }

    /// The caller; `offline` or `permission` while STS cannot say.
    pub fn get(&self) -> Result<Arc<Caller>> {
        if let Some(c) = self.known.get() {
            return Ok(c.clone());
        }
        let c = Arc::new(Caller::fetch(&self.sts)?);
        Ok(self.known.get_or_init(|| c).clone())
    }
}

/// Shown as the actor while STS cannot be reached.
pub const UNKNOWN_ACTOR: &str = "(AWS unreachable)";

/// The identity port on AWS.
pub struct AwsIdentity {
    caller: Arc<Callers>,
    roles: BTreeMap<String, Vec<Role>>,
    limits: Limits,
    sagemaker: aws_sdk_sagemaker::Client,
    group: String,
    audit: Arc<dyn Audit>,
}

impl AwsIdentity {
    /// The identity of `caller`, its roles from `[aws.roles]`, the policy
    /// in the tags of SageMaker group `group`.
    pub fn new(
        caller: Arc<Callers>,
        roles: BTreeMap<String, Vec<Role>>,
        limits: Limits,
        sagemaker: aws_sdk_sagemaker::Client,
        group: String,
        audit: Arc<dyn Audit>,
    ) -> AwsIdentity {
        AwsIdentity {
            caller,
            roles,
            limits,
            sagemaker,
            group,
            audit,
        }
    }

    /// The caller's Tablero roles, when `[aws.roles]` maps its role.
    pub fn mapped_roles(&self) -> Option<Vec<Role>> {
        let c = self.caller.get().ok()?;
        self.roles.get(&c.principal).cloned()
    }

    fn group_arn(&self) -> Result<Option<String>> {
        let (sm, group) = (self.sagemaker.clone(), self.group.clone());
        block_on(async move { crate::registry::group_arn(&sm, &group).await })
    }

    fn four_eyes(&self) -> Result<bool> {
        let Some(arn) = self.group_arn()? else {
            return Ok(true);
        };
        let sm = self.sagemaker.clone();
        block_on(async move {
            let out = sm
                .list_tags()
                .resource_arn(&arn)
                .send()
                .await
                .map_err(fail("sagemaker:ListTags", "read the four-eyes policy"))?;
            Ok(!out
                .tags()
                .iter()
                .any(|t| t.key() == Some(FOUR_EYES_TAG) && t.value() == Some("off")))
        })
    }
}

impl Identity for AwsIdentity {
    fn actor(&self) -> String {
        self.caller
            .get()
            .map_or_else(|_| UNKNOWN_ACTOR.into(), |c| c.actor.clone())
    }

    fn os_user(&self) -> String {
        self.caller
            .get()
            .map_or_else(|_| UNKNOWN_ACTOR.into(), |c| c.arn.clone())
    }

    fn users(&self) -> BTreeMap<String, Vec<Role>> {
        let mut users = self.roles.clone();
        if let (Some(r), Ok(c)) = (self.mapped_roles(), self.caller.get()) {
            users.insert(c.actor.clone(), r);
        }
        users
    }

    fn policy(&self) -> Policy {
        Policy {
            // Unreadable (offline): the safe side.
            four_eyes: self.four_eyes().unwrap_or(true),
            allow_as: false,
        }
    }

    fn limits(&self) -> Limits {
        self.limits.clone()
    }

    fn authorize(&self, action: Action) -> Result<()> {
        let caller = self.caller.get()?;
        let Some(held) = self.mapped_roles() else {
            // Not mapped: IAM decides, and its refusal names the permission.
            return Ok(());
        };
        let needed = action.roles();
        if needed.iter().any(|r| held.contains(r)) {
            return Ok(());
        }
        let names: Vec<&str> = needed.iter().map(|r| r.name()).collect();
        let role = if names.len() == 1 {
            names[0].to_string()
        } else {
            format!("one of {}", names.join(", "))
        };
        Err(BackendError::permission(
            format!(
                "{} cannot {}: it needs the {role} role ([aws.roles] maps the IAM role {} to {})",
                caller.actor,
                action.describe(),
                caller.principal,
                held.iter().map(|r| r.name()).collect::<Vec<_>>().join(", ")
            ),
            role,
        ))
    }

    fn switch_user(&self, user: &str) -> Result<()> {
        Err(BackendError::new(
            ErrorKind::Unsupported,
            format!(
                "cannot act as {user:?}: on the AWS backend you are who your AWS credentials say ({}); \
                 use another profile (AWS_PROFILE or [aws] profile) instead of --as",
                self.actor()
            ),
        ))
    }

    fn set_four_eyes(&self, on: bool) -> Result<()> {
        let before = self.four_eyes()?;
        // The switch lives on the group: make it if no version made it yet.
        let (sm, group) = (self.sagemaker.clone(), self.group.clone());
        let arn = block_on(async move { crate::registry::ensure_group(&sm, &group).await })?;
        let sm = self.sagemaker.clone();
        block_on(async move {
            sm.add_tags()
                .resource_arn(&arn)
                .tags(
                    Tag::builder()
                        .key(FOUR_EYES_TAG)
                        .value(if on { "on" } else { "off" })
                        .build(),
                )
                .send()
                .await
                .map_err(fail("sagemaker:AddTags", "change the four-eyes policy"))?;
            Ok(())
        })?;
        let word = |b: bool| if b { "on" } else { "off" };
        self.audit.append_audit(
            &AuditEvent::new("policy.four_eyes", self.group.clone())
                .before(word(before))
                .after(word(on)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Caller;

    #[test]
    fn callers_from_arns() {
        let c = Caller::from_arn("arn:aws:sts::1:assumed-role/ml-lead/ana", "1");
        assert_eq!(
            (c.principal.as_str(), c.actor.as_str(), c.session.as_deref()),
            ("ml-lead", "ml-lead/ana", Some("ana"))
        );
        let u = Caller::from_arn("arn:aws:iam::1:user/team/bob", "1");
        assert_eq!(
            (u.principal.as_str(), u.actor.as_str(), u.session),
            ("bob", "bob", None)
        );
        let r = Caller::from_arn("arn:aws:iam::1:root", "1");
        assert_eq!(r.actor, "root");
    }
}
