//! The backend conformance suite (`tablero-conformance`) against the local
//! backend: a fresh workspace per case, on real folders and SQLite, with
//! one user per persona.

use std::path::PathBuf;

use tablero_conformance::suite::{Harness, Persona};
use tablero_core::ports::Backend;
use tablero_local::Workspace;

struct Local {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Local {
    fn new() -> Local {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        Workspace::init(&root).unwrap();
        let me = tablero_local::workspace::os_user();
        let mut roles = String::new();
        for p in Persona::ALL {
            let name = if p == Persona::Admin {
                me.as_str()
            } else {
                p.name()
            };
            let list: Vec<String> = p
                .roles()
                .iter()
                .map(|r| format!("\"{}\"", r.name()))
                .collect();
            roles.push_str(&format!("\"{name}\" = [{}]\n", list.join(", ")));
        }
        std::fs::write(
            root.join("tablero.toml"),
            format!("[roles]\n{roles}\n[policy]\nfour_eyes = true\nallow_as = true\n"),
        )
        .unwrap();
        Local { _dir: dir, root }
    }
}

impl Harness for Local {
    fn backend(&self, who: Persona) -> Backend {
        let ws = Workspace::open(&self.root).unwrap();
        let ws = match who {
            Persona::Admin => ws,
            p => ws.act_as(p.name()).unwrap(),
        };
        ws.into_backend()
    }
}

tablero_conformance::conformance_suite!(Local::new();
    put_streams_with_progress,
    an_aborted_put_leaves_nothing,
    a_put_of_the_wrong_length_leaves_nothing,
    listing_pages_cover_every_object_once,
    head_tells_size_time_class_and_metadata,
    range_reads_are_exact,
    missing_objects_are_not_found,
    a_deleted_object_comes_back_from_the_trash,
    restoring_an_object_that_is_not_archived_is_refused,
    #[ignore = "a local workspace never archives objects: every object stays readable (storage class STANDARD)"]
    archived_object_is_restored,
    a_job_reports_progress_and_commits_its_output,
    a_kept_clean_job_gives_the_features_job_the_same_table,
    a_cancelled_job_writes_nothing,
    a_failed_job_says_why_and_writes_nothing,
    a_missing_input_is_refused_before_a_job_is_queued,
    register_approve_promote_rollback_with_every_refusal,
    a_remote_trainer_registers_its_result,
    a_cancelled_training_registers_nothing,
    metric_windows_drift_and_alarms_round_trip,
    the_audit_trail_is_complete_and_append_only,
    api_keys_are_shown_once_listed_by_hash_and_revoked,
    identity_roles_and_policy,
);
