//! Folder buckets, the SQLite job records and the audit log, on real files.

use std::collections::BTreeMap;

use std::ops::ControlFlow;
use tablero_core::clean::Preset;
use tablero_core::ingest::CsvOptions;

use tablero_app::data::Upload;
use tablero_core::job::{JobRequest, JobStatus};
use tablero_core::ports::{
    put_bytes, Audit, BackendError, ErrorKind, JobRunner, ObjectStore, TrashEntry,
};
use tablero_core::preview::Preview;
use tablero_core::store::{Bucket, ObjectInfo, ObjectKey};
use tablero_local::Workspace;

/// The data actions of `tablero-app`, on the backend of the same workspace.
trait Data {
    fn upload(
        &self,
        file: &std::path::Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Upload, BackendError>;
    fn preview(&self, bucket: Bucket, key: &str, rows: usize) -> Result<Preview, BackendError>;
    fn delete(&self, bucket: Bucket, key: &str) -> Result<TrashEntry, BackendError>;
    fn trash(&self) -> Result<Vec<TrashEntry>, BackendError>;
    fn restore(&self, id: &str) -> Result<ObjectInfo, BackendError>;
}

impl Data for Workspace {
    fn upload(
        &self,
        file: &std::path::Path,
        key: Option<&str>,
        opts: &CsvOptions,
        replace: bool,
        progress: &dyn Fn(u64, u64),
    ) -> Result<Upload, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::data::upload(&b, file, key, opts, replace, progress, &|| false)
    }

    fn preview(&self, bucket: Bucket, key: &str, rows: usize) -> Result<Preview, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::data::preview(&b, bucket, key, rows)
    }

    fn delete(&self, bucket: Bucket, key: &str) -> Result<TrashEntry, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::data::delete(&b, bucket, key)
    }

    fn trash(&self) -> Result<Vec<TrashEntry>, BackendError> {
        self.store().trash()
    }

    fn restore(&self, id: &str) -> Result<ObjectInfo, BackendError> {
        let b = Workspace::open(self.root()).unwrap().into_backend();
        tablero_app::data::restore(&b, id)
    }
}

fn workspace() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::init(&dir.path().join("ws")).unwrap();
    (dir, ws)
}

fn sample() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets/sample/online_retail_sample.csv")
}

#[test]
fn listing_is_paged_sorted_and_complete() {
    let (_d, ws) = workspace();
    let store = ws.store();
    let mut keys: Vec<String> = (0..25)
        .map(|i| format!("batch/{:02}/part.csv", (i * 7) % 25))
        .collect();
    keys.push("other.csv".into());
    for k in &keys {
        put_bytes(
            store,
            Bucket::Raw,
            &ObjectKey::new(k).unwrap(),
            k.as_bytes(),
            &BTreeMap::new(),
        )
        .unwrap();
    }
    let mut seen = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = store
            .list(Bucket::Raw, "batch/", token.as_deref(), 10)
            .unwrap();
        pages += 1;
        seen.extend(page.objects.iter().map(|o| o.key.clone()));
        match page.next_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let mut want: Vec<String> = keys
        .into_iter()
        .filter(|k| k.starts_with("batch/"))
        .collect();
    want.sort();
    assert_eq!(seen, want);
    let one = store.list(Bucket::Raw, "batch/07", None, 10).unwrap();
    assert_eq!(one.objects.len(), 1);
    assert_eq!(one.objects[0].size, "batch/07/part.csv".len() as u64);
    assert_eq!(one.objects[0].storage_class, "STANDARD");
}

#[test]
fn writes_are_atomic_and_ranges_read_exactly() {
    let (_d, ws) = workspace();
    let store = ws.store();
    let key = ObjectKey::new("a/b.bin").unwrap();
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    let mut progress = Vec::new();
    let meta = BTreeMap::from([("k".to_string(), "v".to_string())]);
    let info = store
        .put(
            Bucket::Clean,
            &key,
            &mut bytes.as_slice(),
            bytes.len() as u64,
            &meta,
            &mut |done, total| {
                progress.push((done, total));
                ControlFlow::Continue(())
            },
        )
        .unwrap();
    assert_eq!(info.size, 10_000);
    assert_eq!(info.metadata["k"], "v");
    assert_eq!(progress.last(), Some(&(10_000, 10_000)));
    assert_eq!(
        store.read_range(Bucket::Clean, &key, 9_990, 100).unwrap(),
        bytes[9_990..].to_vec()
    );
    assert_eq!(
        store.read_range(Bucket::Clean, &key, 17, 3).unwrap(),
        bytes[17..20].to_vec()
    );
    // No staging file is left behind.
    assert_eq!(std::fs::read_dir(ws.root().join("tmp")).unwrap().count(), 0);
    // Delete moves to the trash, and the object is gone from listings.
    store.delete(Bucket::Clean, &key).unwrap();
    assert_eq!(
        store.head(Bucket::Clean, &key).unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert!(store
        .list(Bucket::Clean, "", None, 10)
        .unwrap()
        .objects
        .is_empty());
    // A leftover staging file (a crash mid-write) is never listed.
    std::fs::write(ws.root().join("tmp/123-crashed.part"), b"partial").unwrap();
    assert!(store
        .list(Bucket::Clean, "", None, 10)
        .unwrap()
        .objects
        .is_empty());
}

#[test]
fn invalid_keys_are_refused() {
    let (_d, ws) = workspace();
    for key in ["../escape.csv", "/etc/passwd", "a/../../b", "a\0b", ""] {
        let err = ws.preview(Bucket::Raw, key, 5).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidKey, "{key:?}: {err}");
    }
    let file = _d.path().join("x.csv");
    std::fs::copy(sample(), &file).unwrap();
    let err = ws
        .upload(
            &file,
            Some("../x.csv"),
            &CsvOptions::default(),
            false,
            &|_, _| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("invalid object key"), "{err}");
}

#[test]
fn a_failed_job_says_why_and_writes_nothing() {
    let (_d, ws) = workspace();
    ws.upload(
        &sample(),
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
    )
    .unwrap();
    let clean = ws
        .submit(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        })
        .unwrap();
    assert_eq!(clean.status, JobStatus::Queued);
    let clean = ws.run(&clean.id, &|_| {}).unwrap();
    assert_eq!(clean.status, JobStatus::Succeeded);
    let out = clean.output.clone().unwrap();
    assert_eq!(
        (out.bucket, out.key.as_str()),
        (Bucket::Clean, "s/transactions.parquet")
    );
    let before = std::fs::read(ws.root().join("buckets/clean/s/transactions.parquet")).unwrap();

    // Parity features on a standard clean table: refused, nothing written.
    let job = ws
        .submit(JobRequest::Features {
            clean_key: out.key.clone(),
            preset: Preset::Parity,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        })
        .unwrap();
    let job = ws.run(&job.id, &|_| {}).unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(
        job.error.as_deref().unwrap().contains("--preset standard"),
        "{:?}",
        job.error
    );
    assert!(job.output.is_none());
    assert!(!ws
        .root()
        .join("buckets/clean/s/features.parity.parquet")
        .exists());
    assert_eq!(
        std::fs::read(ws.root().join("buckets/clean/s/transactions.parquet")).unwrap(),
        before
    );
    let logs = ws.logs(&job.id).unwrap();
    assert_eq!(logs.last().unwrap().level.name(), "error");

    // A job can only run once.
    assert!(ws.run(&job.id, &|_| {}).is_err());

    // Features with the matching preset succeed and record the report.
    let ok = ws
        .submit(JobRequest::Features {
            clean_key: out.key,
            preset: Preset::Standard,
            cutoff: None,
            horizon_days: 90,
            out_key: None,
        })
        .unwrap();
    let seen = std::cell::Cell::new(0);
    let ok = ws.run(&ok.id, &|_| seen.set(seen.get() + 1)).unwrap();
    assert_eq!(ok.status, JobStatus::Succeeded);
    assert!(seen.get() >= 3, "progress was observed");
    assert_eq!(
        serde_json::to_value(ok.report.as_ref().unwrap()).unwrap()["customers"],
        324
    );
    assert!(ws
        .root()
        .join("buckets/clean/s/features.report.json")
        .exists());
    let listed: Vec<String> = ws.jobs(10).unwrap().into_iter().map(|j| j.id).collect();
    assert_eq!(
        listed,
        vec![ok.id.clone(), job.id.clone(), clean.id.clone()]
    );
}

#[test]
fn missing_inputs_are_refused_before_a_job_is_queued() {
    let (_d, ws) = workspace();
    let b = Workspace::open(ws.root()).unwrap().into_backend();
    let err = tablero_app::jobs::submit(
        &b,
        JobRequest::Clean {
            raw_key: "nope.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        },
    )
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
    assert!(err.to_string().contains("tablero data ls raw"));
    assert!(ws.jobs(10).unwrap().is_empty());
}

#[test]
fn cancelling_a_queued_job_and_reaping_a_dead_one() {
    let (_d, ws) = workspace();
    ws.upload(
        &sample(),
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
    )
    .unwrap();
    let job = ws
        .submit(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        })
        .unwrap();
    let job = ws.cancel(&job.id).unwrap();
    assert_eq!(job.status, JobStatus::Cancelled);
    assert!(
        ws.run(&job.id, &|_| {}).is_err(),
        "a cancelled job does not run"
    );
    assert!(
        ws.cancel(&job.id).is_err(),
        "an ended job cannot be cancelled"
    );

    // A job left `running` by a process that died is marked failed on open.
    let job = ws
        .submit(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        })
        .unwrap();
    // As a crashed process would leave it: running, under a pid that is gone.
    let db = tablero_local::db::Db::open(&ws.root().join("tablero.db")).unwrap();
    db.mark_running_for_test(&job.id, 999_999_999).unwrap();
    drop(db);
    let ws = Workspace::open(ws.root()).unwrap();
    let job = ws.job(&job.id).unwrap();
    assert_eq!(job.status, JobStatus::Failed);
    assert!(job.error.unwrap().contains("stopped before it finished"));
}

#[test]
fn every_mutating_action_is_audited_and_the_log_is_append_only() {
    let (_d, ws) = workspace();
    ws.upload(
        &sample(),
        Some("s.csv"),
        &CsvOptions::default(),
        false,
        &|_, _| {},
    )
    .unwrap();
    let job = ws
        .submit(JobRequest::Clean {
            raw_key: "s.csv".into(),
            preset: Preset::Standard,
            out_key: None,
        })
        .unwrap();
    ws.run(&job.id, &|_| {}).unwrap();
    ws.delete(Bucket::Raw, "s.csv").unwrap();
    let log = ws.audit_since("1970-01-01T00:00:00Z").unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec!["workspace.init", "upload", "job.submit", "delete"]
    );
    assert!(log
        .iter()
        .all(|e| e.actor == tablero_local::workspace::os_user()));
    assert_eq!(log[3].target, "raw/s.csv");
    let db = tablero_local::db::Db::open(&ws.root().join("tablero.db")).unwrap();
    let err = db.tamper_with_audit_for_test().unwrap_err();
    assert!(err.to_string().contains("append-only"), "{err}");
}

#[test]
fn a_deleted_object_is_restored_with_its_metadata_and_never_over_another() {
    let (_d, ws) = workspace();
    let up = |key: &str| {
        ws.upload(
            &sample(),
            Some(key),
            &CsvOptions::default(),
            true,
            &|_, _| {},
        )
        .unwrap()
    };
    up("2011/s.csv");
    let head = |key: &str| {
        ws.store()
            .head(Bucket::Raw, &ObjectKey::new(key).unwrap())
            .unwrap()
    };
    let before = head("2011/s.csv");
    let first = ws.delete(Bucket::Raw, "2011/s.csv").unwrap();
    assert!(std::path::Path::new(&first.path).is_file());
    assert!(
        !ws.root().join("buckets/raw/2011").exists(),
        "emptied folders go"
    );

    // A new upload under the same key, deleted too: two entries, newest first.
    up("2011/s.csv");
    let second = ws.delete(Bucket::Raw, "2011/s.csv").unwrap();
    let trash = ws.trash().unwrap();
    assert_eq!(
        trash.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(),
        [second.id.as_str(), first.id.as_str()]
    );
    assert_eq!(trash[0], second);
    assert!(trash[0].deleted_at >= trash[1].deleted_at);

    // Restoring brings back the bytes and the column mapping.
    let info = ws.restore(&first.id).unwrap();
    assert_eq!(info.size, before.size);
    assert_eq!(info.metadata, before.metadata);
    assert!(!std::path::Path::new(&first.path).exists());
    // The other one cannot land on it.
    let err = ws.restore(&second.id).unwrap_err();
    assert!(err.to_string().contains("exists now"), "{err}");
    assert!(
        std::path::Path::new(&second.path).is_file(),
        "a refused restore keeps the trash entry"
    );
    assert_eq!(ws.trash().unwrap().len(), 1);

    // Ids that are not trash entries, or try to leave the trash.
    for bad in [
        "raw",
        "raw/../../x/s.csv",
        "raw/x/../../../tablero.toml",
        "nope/t/s.csv",
    ] {
        assert!(ws.restore(bad).is_err(), "{bad}");
    }
    assert!(ws.root().join("tablero.toml").is_file());
    let actions: Vec<String> = ws
        .audit_since("1970-01-01T00:00:00Z")
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.iter().any(|a| a == "restore"), "{actions:?}");
}

#[test]
fn a_user_without_the_role_is_refused() {
    let (_d, ws) = workspace();
    let cfg = ws.config_path();
    let me = tablero_local::workspace::os_user();
    std::fs::write(
        &cfg,
        format!(
            "[roles]\n\"{me}\" = [\"ml_lead\"]\n[policy]\nfour_eyes = true\nallow_as = false\n"
        ),
    )
    .unwrap();
    let ws = Workspace::open(ws.root()).unwrap();
    let err = ws
        .upload(&sample(), None, &CsvOptions::default(), false, &|_, _| {})
        .unwrap_err();
    let msg = err.to_string();
    assert_eq!(err.kind(), ErrorKind::Permission);
    assert_eq!(err.missing(), Some("analyst"));
    assert!(
        msg.contains("needs the analyst role") && msg.contains("tablero.toml"),
        "{msg}"
    );
    // --as is off by default.
    match Workspace::open(ws.root()).unwrap().act_as("somebody") {
        Err(err) => assert!(err.to_string().contains("allow_as = false"), "{err}"),
        Ok(_) => panic!("--as must be refused when allow_as is off"),
    }
}

/// Every key of a bucket through the listing, page by page.
fn listed(store: &dyn ObjectStore, bucket: Bucket, page: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let p = store.list(bucket, "", token.as_deref(), page).unwrap();
        out.extend(p.objects.into_iter().map(|o| o.key));
        match p.next_token {
            Some(t) => token = Some(t),
            None => return out,
        }
    }
}

/// The listing index follows the folder: files added, removed and
/// replaced by hand (also in new folders), Tablero's own writes from
/// another process, and a deleted index file, which is built again.
#[test]
fn the_listing_index_follows_changes_made_by_hand() {
    let (_d, ws) = workspace();
    let store = ws.store();
    let raw = ws.root().join("buckets/raw");
    for k in ["a.csv", "m/b.csv", "z.csv"] {
        put_bytes(
            store,
            Bucket::Raw,
            &ObjectKey::new(k).unwrap(),
            b"x",
            &BTreeMap::new(),
        )
        .unwrap();
    }
    assert_eq!(listed(store, Bucket::Raw, 2), ["a.csv", "m/b.csv", "z.csv"]);
    assert!(ws.root().join("index/listing.sqlite").is_file());

    // By hand: a new file at the top, one in an existing folder, one in a
    // new folder tree; one removed.
    std::fs::write(raw.join("c.csv"), b"hand").unwrap();
    std::fs::write(raw.join("m/a.csv"), b"hand").unwrap();
    std::fs::create_dir_all(raw.join("n/o")).unwrap();
    std::fs::write(raw.join("n/o/p.csv"), b"hand").unwrap();
    std::fs::remove_file(raw.join("z.csv")).unwrap();
    assert_eq!(
        listed(store, Bucket::Raw, 2),
        ["a.csv", "c.csv", "m/a.csv", "m/b.csv", "n/o/p.csv"]
    );

    // Another process's store (its own index connection) writes and
    // deletes; this one sees both.
    let other = Workspace::open(ws.root()).unwrap();
    put_bytes(
        other.store(),
        Bucket::Raw,
        &ObjectKey::new("m/q.csv").unwrap(),
        b"y",
        &BTreeMap::new(),
    )
    .unwrap();
    other
        .store()
        .delete(Bucket::Raw, &ObjectKey::new("n/o/p.csv").unwrap())
        .unwrap();
    assert_eq!(
        listed(store, Bucket::Raw, 3),
        ["a.csv", "c.csv", "m/a.csv", "m/b.csv", "m/q.csv"]
    );
    assert!(!raw.join("n").exists(), "emptied folders are pruned");

    // A restore puts it back in the listing.
    let id = store.trash().unwrap()[0].id.clone();
    store.restore_deleted(&id).unwrap();
    assert!(listed(store, Bucket::Raw, 10).contains(&"n/o/p.csv".to_string()));

    // The index file deleted: rebuilt by the next listing.
    drop(other);
    let fresh = Workspace::open(ws.root()).unwrap();
    std::fs::remove_file(ws.root().join("index/listing.sqlite")).unwrap();
    assert_eq!(
        listed(fresh.store(), Bucket::Raw, 4),
        [
            "a.csv",
            "c.csv",
            "m/a.csv",
            "m/b.csv",
            "m/q.csv",
            "n/o/p.csv"
        ]
    );
    // Prefixes and tokens on the index.
    let p = fresh
        .store()
        .list(Bucket::Raw, "m/", Some("m/a.csv"), 1)
        .unwrap();
    assert_eq!(p.objects[0].key, "m/b.csv");
    assert_eq!(p.next_token.as_deref(), Some("m/b.csv"));
    let p = fresh
        .store()
        .list(Bucket::Raw, "m/", Some("m/b.csv"), 5)
        .unwrap();
    assert_eq!(p.objects.len(), 1);
    assert_eq!(p.next_token, None);
    assert!(fresh
        .store()
        .list(Bucket::Raw, "zz", None, 5)
        .unwrap()
        .objects
        .is_empty());
}

/// Parts staged by a process that is gone are removed when the workspace
/// is opened; a live process's parts are left alone.
#[test]
fn opening_the_workspace_removes_parts_left_by_dead_processes() {
    let (_d, ws) = workspace();
    let tmp = ws.root().join("tmp");
    let dead = (100_000u32..4_000_000)
        .find(|p| !std::path::Path::new(&format!("/proc/{p}")).exists())
        .unwrap();
    let left = tmp.join(format!("{dead}-1-0.part"));
    let live = tmp.join(format!("{}-1-0.part", std::process::id()));
    let other = tmp.join("notes.txt");
    for p in [&left, &live, &other] {
        std::fs::write(p, b"x").unwrap();
    }
    let _again = Workspace::open(ws.root()).unwrap();
    assert!(!left.exists(), "a dead process's part is removed");
    assert!(live.exists(), "a live process's part stays");
    assert!(other.exists(), "only parts are touched");
}
