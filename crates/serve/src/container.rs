//! The endpoint in its container (ECS Fargate behind API Gateway), with no
//! workspace: the model is the artifact `MODEL_URI` names, read at start
//! and on reload; API keys are checked upstream by API Gateway (the
//! endpoint trusts it: it must be reachable only through the gateway);
//! metrics are CloudWatch Embedded Metric Format lines on stdout, one per
//! window, which the awslogs driver sends to CloudWatch Logs; the live
//! sample is an object of the models bucket.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::sync::{Arc, Mutex};

use tablero_core::emf;
use tablero_core::monitor::{self, AlarmChange, LiveSlot, MetricWindow};
use tablero_core::ports::{put_bytes, BackendError, ObjectStore, Result, Serving};
use tablero_core::store::{Bucket, ObjectKey};
use tablero_core::train::model::{Baseline, Model, ModelArtifact};

use crate::source::{KeyInfo, KeySource, Listed, MetricsSink, ModelSource};

/// The baseline of the version loaded last, shared by the model source
/// (which loads it) and the metrics sink (which reports the window's
/// largest feature PSI against it).
pub type LoadedBaseline = Arc<Mutex<Option<(Serving, Baseline)>>>;

/// `s3://bucket/key` → (bucket, key).
pub fn split_uri(uri: &str) -> Result<(String, String)> {
    let rest = uri.strip_prefix("s3://").ok_or_else(|| {
        BackendError::refused(format!(
            "{uri:?} is not an s3:// URI (MODEL_URI, TABLERO_LIVE_SAMPLE_URI)"
        ))
    })?;
    match rest.split_once('/') {
        Some((b, k)) if !b.is_empty() => Ok((b.to_string(), k.to_string())),
        _ => Err(BackendError::refused(format!(
            "{uri:?} names no object: s3://<bucket>/<key>"
        ))),
    }
}

/// The model `MODEL_URI` names, as version `MODEL_VERSION` (`group/vN`);
/// nothing to serve when both are empty.
pub struct UriModel {
    store: Arc<dyn ObjectStore>,
    key: Option<ObjectKey>,
    wanted: Option<Serving>,
    loaded: LoadedBaseline,
}

impl UriModel {
    /// `key` of `store`'s models bucket as `wanted`; both or neither.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        key: Option<ObjectKey>,
        wanted: Option<Serving>,
        loaded: LoadedBaseline,
    ) -> Result<UriModel> {
        if key.is_some() != wanted.is_some() {
            return Err(BackendError::refused(
                "MODEL_URI and MODEL_VERSION go together: both set (s3://…, group/vN) or both empty",
            ));
        }
        Ok(UriModel {
            store,
            key,
            wanted,
            loaded,
        })
    }
}

impl ModelSource for UriModel {
    fn wanted(&self) -> Result<Option<Serving>> {
        Ok(self.wanted.clone())
    }

    fn load(&self, version: &Serving) -> Result<Model> {
        let key = self
            .key
            .as_ref()
            .filter(|_| self.wanted.as_ref() == Some(version))
            .ok_or_else(|| {
                BackendError::not_found(format!(
                    "this endpoint serves only MODEL_VERSION, not {}/v{}",
                    version.group, version.version
                ))
            })?;
        let bytes = self.store.read(Bucket::Models, key)?;
        let artifact = ModelArtifact::from_bytes(&bytes).map_err(|e| {
            BackendError::refused(format!(
                "{}: not a model artifact: {e}",
                self.store.uri(Bucket::Models, key.as_str())
            ))
        })?;
        if let Ok(mut l) = self.loaded.lock() {
            *l = Some((version.clone(), artifact.model.baseline.clone()));
        }
        Ok(artifact.model)
    }

    fn catalogue(&self, group: &str) -> Result<Vec<Listed>> {
        let (Some(key), Some(v)) = (&self.key, &self.wanted) else {
            return Ok(Vec::new());
        };
        if v.group != group {
            return Ok(Vec::new());
        }
        let info = self.store.head(Bucket::Models, key)?;
        Ok(vec![Listed {
            name: format!("{}/v{}", v.group, v.version),
            size_bytes: info.size,
            created: info.modified.clone(),
            modified: info.modified,
            status: "Approved".into(),
        }])
    }
}

/// Keys checked upstream: API Gateway lets through only requests with an
/// active key within its usage plan's rate; the endpoint accepts what
/// reaches it.
pub struct GatewayKeys;

impl KeySource for GatewayKeys {
    fn keys(&self) -> Result<HashMap<String, KeyInfo>> {
        Ok(HashMap::new())
    }

    fn trusts_gateway(&self) -> bool {
        true
    }
}

/// Metrics as EMF lines on `out` (stdout in the container), and the live
/// sample as one object per task in the models bucket.
pub struct EmfSink<W: Write + Send> {
    out: Mutex<W>,
    namespace: String,
    loaded: LoadedBaseline,
    live: Option<(Arc<dyn ObjectStore>, ObjectKey)>,
    sample: Mutex<BTreeMap<usize, LiveSlot>>,
    capacity: usize,
}

impl<W: Write + Send> EmfSink<W> {
    /// Lines in `namespace` on `out`; the sample of at most `capacity`
    /// records at `live` (models bucket) when given.
    pub fn new(
        out: W,
        namespace: &str,
        loaded: LoadedBaseline,
        live: Option<(Arc<dyn ObjectStore>, ObjectKey)>,
        capacity: usize,
    ) -> EmfSink<W> {
        EmfSink {
            out: Mutex::new(out),
            namespace: namespace.to_string(),
            loaded,
            live,
            sample: Mutex::new(BTreeMap::new()),
            capacity,
        }
    }

    /// The writer (tests read what was written).
    pub fn into_inner(self) -> Option<W> {
        self.out.into_inner().ok()
    }
}

impl<W: Write + Send> MetricsSink for EmfSink<W> {
    fn write(&self, windows: &[MetricWindow], sample: &[LiveSlot]) -> Result<Vec<AlarmChange>> {
        let loaded = self.loaded.lock().ok().and_then(|l| l.clone());
        let mut lines = String::new();
        for w in windows {
            let max_psi = loaded
                .as_ref()
                .filter(|(s, _)| s.group == w.group && s.version == w.version)
                .and_then(|(_, b)| monitor::max_feature_psi(b, w));
            lines.push_str(&emf::line(w, &self.namespace, max_psi));
            lines.push('\n');
        }
        if !lines.is_empty() {
            let mut out = self
                .out
                .lock()
                .map_err(|_| BackendError::refused("the metrics writer failed earlier"))?;
            out.write_all(lines.as_bytes())
                .and_then(|_| out.flush())
                .map_err(|e| BackendError::refused(format!("cannot write metrics: {e}")))?;
        }
        if let (Some((store, key)), false) = (&self.live, sample.is_empty()) {
            let all: Vec<LiveSlot> = {
                let mut s = self
                    .sample
                    .lock()
                    .map_err(|_| BackendError::refused("the live sample failed earlier"))?;
                for slot in sample {
                    s.insert(slot.slot, slot.clone());
                }
                s.values().cloned().collect()
            };
            let bytes =
                serde_json::to_vec(&all).map_err(|e| BackendError::refused(e.to_string()))?;
            put_bytes(
                store.as_ref(),
                Bucket::Models,
                key,
                &bytes,
                &BTreeMap::new(),
            )?;
        }
        // CloudWatch evaluates the alarms.
        Ok(Vec::new())
    }

    fn sample_capacity(&self) -> usize {
        self.capacity
    }

    fn stored_sample(&self) -> Result<Vec<LiveSlot>> {
        // Each task keeps its own sample, from its start.
        Ok(Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_bucket_and_key() {
        assert_eq!(
            split_uri("s3://models/default/v3/model.json").unwrap(),
            ("models".to_string(), "default/v3/model.json".to_string())
        );
        assert!(split_uri("https://x/y")
            .unwrap_err()
            .to_string()
            .contains("s3://"));
        assert!(split_uri("s3://models")
            .unwrap_err()
            .to_string()
            .contains("names no object"));
    }
}
