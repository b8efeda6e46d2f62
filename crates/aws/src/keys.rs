//! The endpoint's API keys in API Gateway. A key joins the configured usage
//! plan when its rate is the plan's; a key at another rate gets a plan of
//! its own (the same API stages, that throttle), since API Gateway
//! throttles per plan. The key's value is made here, shown once, and
//! never stored; listings show its SHA-256. Revoking disables the key and
//! takes it off its plan (it stops working at once) and keeps it listed as
//! revoked, as on local.

use aws_sdk_apigateway::types::{ApiStage, Op, PatchOperation, ThrottleSettings};
use serde::{Deserialize, Serialize};
use tablero_core::ports::{
    key_hash, ApiKey, ApiKeys, Audit, AuditEvent, BackendError, ErrorKind, Result, DEFAULT_RATE,
};

use crate::clients::{now, random_id};
use crate::error::fail;
use crate::identity::Callers;
use crate::runtime::block_on;

/// What Tablero keeps in a key's description.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Note {
    created_by: String,
    created_at: String,
    rate: f64,
    #[serde(default)]
    own_plan: Option<String>,
    #[serde(default)]
    revoked_at: Option<String>,
}

/// API keys in API Gateway.
pub struct ApiGatewayKeys {
    client: aws_sdk_apigateway::Client,
    usage_plan: Option<String>,
    caller: std::sync::Arc<Callers>,
    audit: std::sync::Arc<dyn Audit>,
}

/// A key as API Gateway lists it, with Tablero's note.
struct Listed {
    id: String,
    name: String,
    value: String,
    note: Note,
}

impl ApiGatewayKeys {
    /// Keys joining `usage_plan`, created as `caller`.
    pub fn new(
        client: aws_sdk_apigateway::Client,
        usage_plan: Option<String>,
        caller: std::sync::Arc<Callers>,
        audit: std::sync::Arc<dyn Audit>,
    ) -> ApiGatewayKeys {
        ApiGatewayKeys {
            client,
            usage_plan,
            caller,
            audit,
        }
    }

    fn plan(&self) -> Result<String> {
        self.usage_plan.clone().ok_or_else(|| {
            BackendError::new(
                ErrorKind::Unsupported,
                "API keys live in API Gateway: set [aws] usage_plan_id (and rest_api_id) in tablero.toml (docs/aws.md)",
            )
        })
    }

    fn listed(&self) -> Result<Vec<Listed>> {
        let client = self.client.clone();
        block_on(async move {
            let mut out = Vec::new();
            let mut position = None;
            loop {
                let page = client
                    .get_api_keys()
                    .include_values(true)
                    .limit(500)
                    .set_position(position)
                    .send()
                    .await
                    .map_err(fail("apigateway:GET", "list the API keys"))?;
                for k in page.items() {
                    let Some(note) = k
                        .description()
                        .and_then(|d| serde_json::from_str::<Note>(d).ok())
                    else {
                        continue; // not a Tablero key
                    };
                    out.push(Listed {
                        id: k.id().unwrap_or_default().to_string(),
                        name: k.name().unwrap_or_default().to_string(),
                        value: k.value().unwrap_or_default().to_string(),
                        note,
                    });
                }
                match page.position() {
                    Some(p) if !p.is_empty() && !page.items().is_empty() => {
                        position = Some(p.to_string())
                    }
                    _ => break,
                }
            }
            Ok(out)
        })
    }
}

impl ApiKeys for ApiGatewayKeys {
    fn create_key(&self, name: &str, rate: f64) -> Result<String> {
        let plan = self.plan()?;
        if self
            .listed()?
            .iter()
            .any(|k| k.name == name && k.note.revoked_at.is_none())
        {
            return Err(BackendError::refused(format!(
                "an active key named {name} exists; revoke it first or pick another name"
            )));
        }
        let value = format!("tbl_{}{}", random_id(), &random_id()[..8]);
        let (client, key_name, caller) = (
            self.client.clone(),
            name.to_string(),
            self.caller.get()?.actor.clone(),
        );
        let name = key_name.clone();
        let secret = value.clone();
        block_on(async move {
            let what = format!("create the API key {name}");
            let p = client
                .get_usage_plan()
                .usage_plan_id(&plan)
                .send()
                .await
                .map_err(fail("apigateway:GET", &what))?;
            let plan_rate = p.throttle().map(|t| t.rate_limit());
            // Its own plan unless the configured plan throttles at this rate.
            let own_plan = if plan_rate == Some(rate) {
                None
            } else {
                let stages: Vec<ApiStage> = p.api_stages().to_vec();
                let burst = (rate.ceil() as i32).max(1).saturating_mul(2);
                let made = client
                    .create_usage_plan()
                    .name(format!("tablero-key-{name}"))
                    .description(format!("Tablero API key {name}: {rate} requests/s"))
                    .throttle(
                        ThrottleSettings::builder()
                            .rate_limit(rate)
                            .burst_limit(burst)
                            .build(),
                    )
                    .set_api_stages(Some(stages))
                    .send()
                    .await
                    .map_err(fail("apigateway:POST", &what))?;
                made.id().map(str::to_string)
            };
            let note = Note {
                created_by: caller,
                created_at: now(),
                rate,
                own_plan: own_plan.clone(),
                revoked_at: None,
            };
            let key = client
                .create_api_key()
                .name(&name)
                .value(&secret)
                .enabled(true)
                .description(
                    serde_json::to_string(&note)
                        .map_err(|e| BackendError::refused(e.to_string()))?,
                )
                .send()
                .await
                .map_err(fail("apigateway:POST", &what))?;
            let id = key.id().unwrap_or_default().to_string();
            client
                .create_usage_plan_key()
                .usage_plan_id(own_plan.as_deref().unwrap_or(&plan))
                .key_id(&id)
                .key_type("API_KEY")
                .send()
                .await
                .map_err(fail("apigateway:POST", &what))?;
            Ok(())
        })?;
        self.audit.append_audit(
            &AuditEvent::new("key.create", key_name).after(format!("{rate} req/s")),
        )?;
        Ok(value)
    }

    fn api_keys(&self) -> Result<Vec<ApiKey>> {
        let mut keys: Vec<ApiKey> = self
            .listed()?
            .into_iter()
            .map(|k| ApiKey {
                name: k.name,
                sha256: key_hash(&k.value),
                rate: if k.note.rate > 0.0 {
                    k.note.rate
                } else {
                    DEFAULT_RATE
                },
                created_by: k.note.created_by,
                created_at: k.note.created_at,
                revoked_at: k.note.revoked_at,
            })
            .collect();
        keys.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(keys)
    }

    fn revoke_key(&self, name: &str) -> Result<()> {
        let plan = self.plan()?;
        let key = self
            .listed()?
            .into_iter()
            .find(|k| k.name == name && k.note.revoked_at.is_none())
            .ok_or_else(|| {
                BackendError::refused(format!(
                    "no active key named {name} (list with `tablero keys ls`)"
                ))
            })?;
        let client = self.client.clone();
        let mut note = key.note.clone();
        note.revoked_at = Some(now());
        let key_name = name.to_string();
        let name = key_name.clone();
        block_on(async move {
            let what = format!("revoke the API key {name}");
            let patch = |path: &str, value: String| {
                PatchOperation::builder()
                    .op(Op::Replace)
                    .path(path)
                    .value(value)
                    .build()
            };
            client
                .update_api_key()
                .api_key(&key.id)
                .patch_operations(patch("/enabled", "false".into()))
                .patch_operations(patch(
                    "/description",
                    serde_json::to_string(&note)
                        .map_err(|e| BackendError::refused(e.to_string()))?,
                ))
                .send()
                .await
                .map_err(fail("apigateway:PATCH", &what))?;
            let on = note.own_plan.clone().unwrap_or(plan);
            let _ = client
                .delete_usage_plan_key()
                .usage_plan_id(&on)
                .key_id(&key.id)
                .send()
                .await;
            if let Some(own) = &note.own_plan {
                let _ = client.delete_usage_plan().usage_plan_id(own).send().await;
            }
            Ok(())
        })?;
        self.audit.append_audit(
            &AuditEvent::new("key.revoke", key_name)
                .before("active")
                .after("revoked"),
        )
    }
}
