//! The endpoint's three seams: where its model comes from, how its API keys
//! are checked, and where its metrics go. [`Sources::from_backend`] builds
//! them over a backend's ports (what runs locally: the deployed version from
//! the registry, the keys from the workspace, metrics into its database);
//! a container brings others ([`crate::container`]: a model from an object
//! URI, keys checked upstream by API Gateway, metrics as EMF lines on
//! stdout).

use std::collections::HashMap;
use std::sync::Arc;

use tablero_core::monitor::{AlarmChange, LiveSlot, MetricWindow};
use tablero_core::ports::{
    ApiKeys, Backend, Deployer, Monitor, ObjectStore, Registry, Result, Serving,
};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::model::Model;

/// A version as `/models` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    /// `group/vN`.
    pub name: String,
    /// Artifact size in bytes.
    pub size_bytes: u64,
    /// Registered (RFC 3339).
    pub created: String,
    /// Last decided, else registered (RFC 3339).
    pub modified: String,
    /// Approval status.
    pub status: String,
}

/// Where the model to serve comes from.
pub trait ModelSource: Send + Sync {
    /// The version that should be served now, if any.
    fn wanted(&self) -> Result<Option<Serving>>;
    /// Loads a version.
    fn load(&self, version: &Serving) -> Result<Model>;
    /// The versions of `group`, newest first, for `/models`.
    fn catalogue(&self, group: &str) -> Result<Vec<Listed>>;
}

/// An API key the endpoint accepts.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyInfo {
    /// Its name (logged, never the key).
    pub name: String,
    /// Requests per second allowed.
    pub rate: f64,
}

/// How requests are authorised.
pub trait KeySource: Send + Sync {
    /// The active keys by SHA-256 (hex).
    fn keys(&self) -> Result<HashMap<String, KeyInfo>>;
    /// Whether keys and rates are checked upstream (API Gateway) and every
    /// request that reaches the endpoint is let through.
    fn trusts_gateway(&self) -> bool {
        false
    }
}

/// Where the endpoint's metrics go.
pub trait MetricsSink: Send + Sync {
    /// Writes finished windows and the changed slots of the live sample;
    /// returns the alarm state changes this caused.
    fn write(&self, windows: &[MetricWindow], sample: &[LiveSlot]) -> Result<Vec<AlarmChange>>;
    /// How many live records to keep as a sample of the traffic.
    fn sample_capacity(&self) -> usize;
    /// The sample kept by an earlier run, to continue it.
    fn stored_sample(&self) -> Result<Vec<LiveSlot>>;
}

/// The three seams.
#[derive(Clone)]
pub struct Sources {
    /// The model.
    pub model: Arc<dyn ModelSource>,
    /// The keys.
    pub keys: Arc<dyn KeySource>,
    /// The metrics.
    pub metrics: Arc<dyn MetricsSink>,
    /// The endpoint's name in its metrics.
    pub endpoint: String,
}

impl Sources {
    /// The seams over a backend's ports: the deployed version, the
    /// backend's keys, its monitor.
    pub fn from_backend(backend: &Backend) -> Sources {
        Sources {
            model: Arc::new(Deployed {
                deployer: backend.deployer.clone(),
                registry: backend.registry.clone(),
                store: backend.store.clone(),
            }),
            keys: Arc::new(BackendKeys(backend.keys.clone())),
            metrics: Arc::new(BackendMetrics(backend.monitor.clone())),
            endpoint: backend
                .monitor
                .endpoints()
                .into_iter()
                .next()
                .unwrap_or_else(|| "local".into()),
        }
    }
}

/// The deployed version, from the registry.
struct Deployed {
    deployer: Arc<dyn Deployer>,
    registry: Arc<dyn Registry>,
    store: Arc<dyn ObjectStore>,
}

impl ModelSource for Deployed {
    fn wanted(&self) -> Result<Option<Serving>> {
        Ok(self.deployer.deployed()?.map(|d| Serving {
            group: d.group,
            version: d.version,
        }))
    }

    fn load(&self, v: &Serving) -> Result<Model> {
        Ok(self.registry.artifact(&v.group, v.version)?.model)
    }

    fn catalogue(&self, group: &str) -> Result<Vec<Listed>> {
        let mut out = Vec::new();
        for v in self.registry.versions(group, None)? {
            let size_bytes = ObjectKey::new(&v.artifact.key)
                .ok()
                .and_then(|k| self.store.head(Bucket::Models, &k).ok())
                .map_or(0, |i| i.size);
            out.push(Listed {
                name: format!("{}/v{}", v.group, v.version),
                size_bytes,
                modified: v.decided_at.clone().unwrap_or_else(|| v.created_at.clone()),
                created: v.created_at,
                status: v.status.name().to_string(),
            });
        }
        Ok(out)
    }
}

/// The backend's API keys.
struct BackendKeys(Arc<dyn ApiKeys>);

impl KeySource for BackendKeys {
    fn keys(&self) -> Result<HashMap<String, KeyInfo>> {
        Ok(self
            .0
            .api_keys()?
            .into_iter()
            .filter(|k| k.revoked_at.is_none())
            .map(|k| {
                (
                    k.sha256,
                    KeyInfo {
                        name: k.name,
                        rate: k.rate,
                    },
                )
            })
            .collect())
    }
}

/// The backend's monitor.
struct BackendMetrics(Arc<dyn Monitor>);

impl MetricsSink for BackendMetrics {
    fn write(&self, windows: &[MetricWindow], sample: &[LiveSlot]) -> Result<Vec<AlarmChange>> {
        self.0.record_metrics(windows, sample)
    }

    fn sample_capacity(&self) -> usize {
        self.0.live_sample_capacity()
    }

    fn stored_sample(&self) -> Result<Vec<LiveSlot>> {
        self.0.live_sample(None)
    }
}
