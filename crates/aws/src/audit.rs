//! The audit trail in the models bucket: one object per event,
//! `audit/YYYY/MM/DD/<time>-<id>.json`, written with `If-None-Match: *`
//! and never rewritten, so two processes appending at once lose nothing
//! (no read-modify-write). Read back in time order.

use std::sync::Arc;

use tablero_core::ports::{Audit, AuditEntry, AuditEvent, BackendError, Result};
use tablero_core::store::{Bucket, ObjectKey};

use crate::clients::random_id;
use crate::identity::Callers;
use crate::s3::S3Store;

/// Where the trail lives in the models bucket.
pub const PREFIX: &str = "audit/";

/// The trail in S3.
#[derive(Clone)]
pub struct S3Audit {
    store: S3Store,
    caller: Arc<Callers>,
}

impl S3Audit {
    /// The trail, written as `caller`.
    pub fn new(store: S3Store, caller: Arc<Callers>) -> S3Audit {
        S3Audit { store, caller }
    }
}

/// The key of an entry at `at` (RFC 3339).
fn key_of(at: &chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "{PREFIX}{}/{}-{}.json",
        at.format("%Y/%m/%d"),
        at.format("%H%M%S%.6fZ"),
        random_id()
    )
}

impl Audit for S3Audit {
    fn append_audit(&self, event: &AuditEvent) -> Result<()> {
        let caller = self.caller.get()?;
        let at = chrono::Utc::now();
        let entry = AuditEntry {
            at: at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            actor: caller.actor.clone(),
            os_user: caller.arn.clone(),
            action: event.action.clone(),
            target: event.target.clone(),
            before: event.before.clone(),
            after: event.after.clone(),
            comment: event.comment.clone(),
        };
        let bytes = serde_json::to_vec(&entry)
            .map_err(|e| BackendError::refused(format!("audit entry: {e}")))?;
        // A fresh random id per entry: a collision would be refused, never
        // overwrite, and the entry written under another id.
        for _ in 0..5 {
            if self
                .store
                .put_if_absent(Bucket::Models, &key_of(&at), bytes.clone())?
            {
                return Ok(());
            }
        }
        Err(BackendError::refused(
            "cannot append to the audit trail: every new key was taken (If-None-Match refused five times)",
        ))
    }

    fn audit_since(&self, since: &str) -> Result<Vec<AuditEntry>> {
        let start = chrono::DateTime::parse_from_rfc3339(since)
            .map(|d| d.with_timezone(&chrono::Utc))
            .map_err(|e| BackendError::refused(format!("bad time {since:?}: {e}")))?;
        // Keys sort by time: start listing at the first key of that day.
        let start_after = format!("{PREFIX}{}/", start.format("%Y/%m/%d"));
        let keys = self
            .store
            .keys(Bucket::Models, PREFIX, Some(&start_after))?;
        // One GET per entry, a few at a time.
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(16) {
            let read: Vec<Result<(String, Vec<u8>)>> = std::thread::scope(|scope| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(key, _)| {
                        scope.spawn(move || {
                            let k = ObjectKey::new(key)?;
                            let bytes = tablero_core::ports::ObjectStore::read(
                                &self.store,
                                Bucket::Models,
                                &k,
                            )?;
                            Ok((key.clone(), bytes))
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| {
                        h.join().unwrap_or_else(|_| {
                            Err(BackendError::refused("reading the audit trail stopped"))
                        })
                    })
                    .collect()
            });
            for r in read {
                let (key, bytes) = r?;
                let entry: AuditEntry = serde_json::from_slice(&bytes).map_err(|e| {
                    BackendError::refused(format!("audit entry {key} is unreadable: {e}"))
                })?;
                let at = chrono::DateTime::parse_from_rfc3339(&entry.at)
                    .map(|d| d.with_timezone(&chrono::Utc))
                    .unwrap_or(start);
                if at >= start {
                    out.push((at, key, entry));
                }
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        Ok(out.into_iter().map(|(_, _, e)| e).collect())
    }
}
