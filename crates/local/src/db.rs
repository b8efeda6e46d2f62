//! The workspace database (`tablero.db`, SQLite in WAL mode): jobs, their
//! logs, and the append-only audit log.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Row};
use tablero_core::job::{Job, JobKind, JobRequest, JobStatus, LogLevel, LogLine, ObjectRef};
use tablero_core::ports::AuditEvent;
use tablero_core::stages::StageReport;

use crate::error::{Error, Result};

const SCHEMA_VERSION: i64 = 6;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    kind             TEXT NOT NULL,
    status           TEXT NOT NULL,
    actor            TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    started_at       TEXT,
    finished_at      TEXT,
    progress         REAL NOT NULL DEFAULT 0,
    phase            TEXT NOT NULL DEFAULT '',
    input_bucket     TEXT NOT NULL,
    input_key        TEXT NOT NULL,
    params           TEXT NOT NULL,
    output_bucket    TEXT,
    output_key       TEXT,
    report           TEXT,
    error            TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    pid              INTEGER
);
CREATE TABLE IF NOT EXISTS job_logs (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id  TEXT NOT NULL REFERENCES jobs(id),
    at      TEXT NOT NULL,
    level   TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_logs_by_job ON job_logs(job_id, seq);
CREATE TABLE IF NOT EXISTS audit (
    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,
    actor    TEXT NOT NULL,
    os_user  TEXT NOT NULL,
    action   TEXT NOT NULL,
    target   TEXT NOT NULL,
    before   TEXT,
    after    TEXT,
    comment  TEXT
);
CREATE TABLE IF NOT EXISTS model_versions (
    group_name     TEXT NOT NULL,
    version        INTEGER NOT NULL,
    status         TEXT NOT NULL,
    created_by     TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    artifact_key   TEXT NOT NULL,
    card_key       TEXT NOT NULL,
    dataset_uri    TEXT NOT NULL,
    dataset_sha256 TEXT NOT NULL,
    summary        TEXT NOT NULL,
    card           TEXT NOT NULL,
    decided_by     TEXT,
    decided_at     TEXT,
    comment        TEXT,
    PRIMARY KEY (group_name, version)
);
CREATE TABLE IF NOT EXISTS api_keys (
    name       TEXT PRIMARY KEY,
    sha256     TEXT NOT NULL UNIQUE,
    rate       REAL NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS deployments (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint     TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    from_version INTEGER,
    action       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS metrics (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    endpoint     TEXT NOT NULL,
    group_name   TEXT NOT NULL,
    version      INTEGER NOT NULL,
    window_start TEXT NOT NULL,
    interval_s   REAL NOT NULL,
    requests     INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    p50_ms       REAL,
    p90_ms       REAL,
    p99_ms       REAL,
    predictions  INTEGER NOT NULL,
    positives    INTEGER NOT NULL,
    score_bins   TEXT NOT NULL,
    feature_bins TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_by_time ON metrics(endpoint, window_start);
CREATE TABLE IF NOT EXISTS alarms (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    rule    TEXT NOT NULL,
    state   TEXT NOT NULL,
    value   REAL,
    message TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS live_sample (
    slot     INTEGER PRIMARY KEY,
    endpoint TEXT NOT NULL,
    record   TEXT NOT NULL,
    seen_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

pub use tablero_core::ports::AuditEntry;

/// The database: one connection, shared by the threads of the process
/// (each operation holds it for its duration).
pub struct Db {
    conn: Mutex<Connection>,
}

/// Current time, RFC 3339 UTC with milliseconds.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

impl Db {
    /// Opens (and creates or migrates) the database.
    pub fn open(path: &Path) -> Result<Db> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(Error::Refused(format!(
                "{} was written by a newer Tablero (schema {version}, this one knows {SCHEMA_VERSION}); upgrade Tablero",
                path.display()
            )));
        }
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        Ok(Db {
            conn: Mutex::new(conn),
        })
    }

    /// The connection, for one operation (or one transaction).
    pub(crate) fn conn(&self) -> Result<MutexGuard<'_, Connection>> {
        self.conn
            .lock()
            .map_err(|_| Error::Refused("the workspace database is unusable after a crash in another thread; restart Tablero".into()))
    }

    /// Appends to the audit log: `actor` (running as `os_user`) did `event`.
    pub fn audit(&self, actor: &str, os_user: &str, event: &AuditEvent) -> Result<()> {
        insert_audit(&*self.conn()?, actor, os_user, event)
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction: writers queue on the
    /// database lock, so read-check-write sequences cannot race. Commits on
    /// `Ok`, rolls back on `Err`.
    pub fn immediate<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.conn()?;
        conn.execute_batch("BEGIN IMMEDIATE")?;
        match f(&conn) {
            Ok(v) => match conn.execute_batch("COMMIT") {
                Ok(()) => Ok(v),
                Err(e) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(e.into())
                }
            },
            Err(e) => {
                let _ = conn.execute_batch("ROLLBACK");
                Err(e)
            }
        }
    }

    /// A stored setting.
    pub fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()?
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()?)
    }

    /// Stores a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = ?2",
            params![key, value],
        )?;
        Ok(())
    }

    /// Audit entries at or after `since` (RFC 3339), oldest first.
    pub fn audit_since(&self, since: &str) -> Result<Vec<AuditEntry>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(
            "SELECT at, actor, os_user, action, target, before, after, comment FROM audit WHERE at >= ?1 ORDER BY seq",
        )?;
        let rows = st.query_map([since], |r| {
            Ok(AuditEntry {
                at: r.get(0)?,
                actor: r.get(1)?,
                os_user: r.get(2)?,
                action: r.get(3)?,
                target: r.get(4)?,
                before: r.get(5)?,
                after: r.get(6)?,
                comment: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a new queued job and returns its id.
    pub fn insert_job(
        &self,
        kind: JobKind,
        actor: &str,
        input: &ObjectRef,
        request: &JobRequest,
    ) -> Result<String> {
        let params = serde_json::to_string(request).map_err(|e| Error::Refused(e.to_string()))?;
        let conn = self.conn()?;
        let tx = conn.unchecked_transaction()?;
        tx.execute(
            "INSERT INTO jobs (id, kind, status, actor, created_at, input_bucket, input_key, params)
             VALUES ('pending-' || hex(randomblob(8)), ?1, 'queued', ?2, ?3, ?4, ?5, ?6)",
            params![kind.name(), actor, now(), input.bucket.name(), input.key, params],
        )?;
        let seq = tx.last_insert_rowid();
        let id = format!("job-{seq:06}");
        tx.execute("UPDATE jobs SET id = ?1 WHERE seq = ?2", params![id, seq])?;
        tx.commit()?;
        Ok(id)
    }

    /// A job by id.
    pub fn job(&self, id: &str) -> Result<Job> {
        self.conn()?
            .query_row(&format!("{JOB_SELECT} WHERE id = ?1"), [id], job_from_row)
            .optional()?
            .ok_or_else(|| Error::JobNotFound(id.to_string()))
    }

    /// Newest jobs first.
    pub fn jobs(&self, limit: usize) -> Result<Vec<Job>> {
        let conn = self.conn()?;
        let mut st = conn.prepare(&format!("{JOB_SELECT} ORDER BY seq DESC LIMIT ?1"))?;
        let rows = st.query_map([limit as i64], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks a job running in this process.
    pub fn start_job(&self, id: &str) -> Result<bool> {
        let n = self.conn()?.execute(
            "UPDATE jobs SET status = 'running', started_at = ?2, pid = ?3 WHERE id = ?1 AND status = 'queued'",
            params![id, now(), std::process::id()],
        )?;
        Ok(n == 1)
    }

    /// Records progress; returns whether cancellation was requested.
    pub fn progress(&self, id: &str, fraction: f64, phase: &str) -> Result<bool> {
        self.conn()?.execute(
            "UPDATE jobs SET progress = ?2, phase = ?3 WHERE id = ?1",
            params![id, fraction, phase],
        )?;
        self.cancel_requested(id)
    }

    /// Whether someone asked the job to stop.
    pub fn cancel_requested(&self, id: &str) -> Result<bool> {
        Ok(self.conn()?.query_row(
            "SELECT cancel_requested FROM jobs WHERE id = ?1",
            [id],
            |r| r.get::<_, i64>(0),
        )? != 0)
    }

    /// Asks a job to stop: a queued job is cancelled at once, a running one
    /// at its next progress check. Returns the status after the request.
    pub fn request_cancel(&self, id: &str) -> Result<JobStatus> {
        {
            let conn = self.conn()?;
            let tx = conn.unchecked_transaction()?;
            tx.execute(
            "UPDATE jobs SET status = 'cancelled', finished_at = ?2, error = 'cancelled before it started'
             WHERE id = ?1 AND status = 'queued'",
            params![id, now()],
        )?;
            tx.execute(
                "UPDATE jobs SET cancel_requested = 1 WHERE id = ?1 AND status = 'running'",
                [id],
            )?;
            tx.commit()?;
        }
        Ok(self.job(id)?.status)
    }

    /// Ends a job.
    pub fn finish_job(
        &self,
        id: &str,
        status: JobStatus,
        output: Option<&ObjectRef>,
        report: Option<&StageReport>,
        error: Option<&str>,
    ) -> Result<()> {
        let report = report
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| Error::Refused(e.to_string()))?;
        self.conn()?.execute(
            "UPDATE jobs SET status = ?2, finished_at = ?3, output_bucket = ?4, output_key = ?5,
                             report = ?6, error = ?7, progress = CASE WHEN ?2 = 'succeeded' THEN 1 ELSE progress END
             WHERE id = ?1",
            params![
                id,
                status.name(),
                now(),
                output.map(|o| o.bucket.name()),
                output.map(|o| o.key.as_str()),
                report,
                error
            ],
        )?;
        Ok(())
    }

    /// Appends a log line to a job.
    pub fn log(&self, id: &str, level: LogLevel, message: &str) -> Result<()> {
        self.conn()?.execute(
            "INSERT INTO job_logs (job_id, at, level, message) VALUES (?1, ?2, ?3, ?4)",
            params![id, now(), level.name(), message],
        )?;
        Ok(())
    }

    /// A job's log, oldest first.
    pub fn logs(&self, id: &str) -> Result<Vec<LogLine>> {
        self.job(id)?;
        let conn = self.conn()?;
        let mut st =
            conn.prepare("SELECT at, level, message FROM job_logs WHERE job_id = ?1 ORDER BY seq")?;
        let rows = st.query_map([id], |r| {
            Ok(LogLine {
                at: r.get(0)?,
                level: named(r, 1)?,
                message: r.get(2)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Marks as failed the running jobs whose process is gone (a crash or a
    /// kill): their output was never committed, so nothing else is needed.
    pub fn reap_orphans(&self) -> Result<usize> {
        let running: Vec<(String, Option<i64>)> = {
            let conn = self.conn()?;
            let mut st = conn.prepare("SELECT id, pid FROM jobs WHERE status = 'running'")?;
            let rows = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut n = 0;
        for (id, pid) in running {
            if pid.is_some_and(|p| !process_alive(p)) {
                self.finish_job(
                    &id,
                    JobStatus::Failed,
                    None,
                    None,
                    Some("the process running this job stopped before it finished; no output was written"),
                )?;
                n += 1;
            }
        }
        Ok(n)
    }
}

#[doc(hidden)]
impl Db {
    /// Test support: leaves a job as a crashed process would.
    pub fn mark_running_for_test(&self, id: &str, pid: i64) -> Result<()> {
        self.conn()?.execute(
            "UPDATE jobs SET status = 'running', pid = ?2 WHERE id = ?1",
            params![id, pid],
        )?;
        Ok(())
    }

    /// Test support: tries to rewrite history.
    pub fn tamper_with_audit_for_test(&self) -> Result<()> {
        self.conn()?
            .execute("UPDATE audit SET actor = 'mallory'", [])?;
        Ok(())
    }
}

/// Appends to the audit log on `conn` (inside a caller's transaction).
pub(crate) fn insert_audit(
    conn: &Connection,
    actor: &str,
    os_user: &str,
    event: &AuditEvent,
) -> Result<()> {
    conn.execute(
        "INSERT INTO audit (at, actor, os_user, action, target, before, after, comment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            now(),
            actor,
            os_user,
            event.action,
            event.target,
            event.before,
            event.after,
            event.comment
        ],
    )?;
    Ok(())
}

fn process_alive(pid: i64) -> bool {
    if pid == i64::from(std::process::id()) {
        return true;
    }
    if cfg!(target_os = "linux") {
        Path::new(&format!("/proc/{pid}")).exists()
    } else {
        true
    }
}

const JOB_SELECT: &str =
    "SELECT id, kind, status, actor, created_at, started_at, finished_at, progress, phase,
    input_bucket, input_key, params, output_bucket, output_key, report, error FROM jobs";

fn job_from_row(r: &Row<'_>) -> rusqlite::Result<Job> {
    let bad = |i: usize, what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            i,
            rusqlite::types::Type::Text,
            format!("bad {what}").into(),
        )
    };
    let kind: String = r.get(1)?;
    let status: String = r.get(2)?;
    let in_bucket: String = r.get(9)?;
    let out_bucket: Option<String> = r.get(12)?;
    let params: String = r.get(11)?;
    let report: Option<String> = r.get(14)?;
    Ok(Job {
        id: r.get(0)?,
        kind: JobKind::from_name(&kind).ok_or_else(|| bad(1, "job kind"))?,
        status: JobStatus::from_name(&status).ok_or_else(|| bad(2, "job status"))?,
        actor: r.get(3)?,
        created_at: r.get(4)?,
        started_at: r.get(5)?,
        finished_at: r.get(6)?,
        progress: r.get(7)?,
        phase: r.get(8)?,
        input: ObjectRef {
            bucket: in_bucket.parse().map_err(|_| bad(9, "bucket"))?,
            key: r.get(10)?,
        },
        params: serde_json::from_str(&params).map_err(|_| bad(11, "params"))?,
        output: match (out_bucket, r.get::<_, Option<String>>(13)?) {
            (Some(b), Some(k)) => Some(ObjectRef {
                bucket: b.parse().map_err(|_| bad(12, "bucket"))?,
                key: k,
            }),
            _ => None,
        },
        report: report
            .map(|s| serde_json::from_str(&s))
            .transpose()
            .map_err(|_| bad(14, "report"))?,
        error: r.get(15)?,
    })
}

/// Reads column `i` of a row as one of the names of a unit enum (a
/// `LogLevel`, an `AlarmRule`, …: stored as its serde name).
pub(crate) fn named<T: serde::de::DeserializeOwned>(
    row: &rusqlite::Row<'_>,
    i: usize,
) -> rusqlite::Result<T> {
    let text: String = row.get(i)?;
    T::deserialize(serde::de::value::StrDeserializer::<serde::de::value::Error>::new(&text))
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
}
