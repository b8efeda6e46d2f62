//! Uploads at scale, as a user runs them: a generated 1 GB file through the
//! `tablero` binary, in memory independent of the file's size.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The child's peak resident memory in KiB (`ru_maxrss` from `wait4`,
/// the kernel's record of its high-water mark), and its exit status.
// The child is reaped by `wait4` below (std's `wait` gives no rusage).
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command) -> (i32, u64, String) {
    let child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    // Read the output on threads so the child never blocks on a full pipe.
    let mut out = child.stdout.unwrap();
    let mut err = child.stderr.unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut out, &mut s).unwrap();
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut err, &mut s).unwrap();
        s
    });
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct the call fills; `pid` is our
    // child, not yet reaped (std's `Child` was consumed above).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let stdout = t_out.join().unwrap();
    let stderr = t_err.join().unwrap();
    assert!(libc::WIFEXITED(status), "{stderr}");
    (
        libc::WEXITSTATUS(status),
        usage.ru_maxrss as u64,
        format!("{stdout}{stderr}"),
    )
}

/// A `tablero` command on the workspace at `ws`.
fn tablero(ws: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tablero"));
    c.env("TABLERO_WORKSPACE", ws).stdin(Stdio::null());
    c
}

/// A temporary folder with an initialised workspace in it, at `ws`.
fn initialised() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    assert!(tablero(&ws).arg("init").status().unwrap().success());
    (dir, ws)
}

fn sample_path() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv")
}

/// Writes the sample's rows again and again after its header, until the
/// file has at least `bytes`; returns its size and the copies written.
fn sample_copies(path: &Path, bytes: u64) -> (u64, u64) {
    let sample = std::fs::read(sample_path()).unwrap();
    let body = sample.iter().position(|&b| b == b'\n').unwrap() + 1;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    f.write_all(&sample).unwrap();
    let (mut size, mut copies) = (sample.len() as u64, 1u64);
    while size < bytes {
        f.write_all(&sample[body..]).unwrap();
        size += (sample.len() - body) as u64;
        copies += 1;
    }
    f.flush().unwrap();
    (size, copies)
}

#[test]
fn a_1_gb_upload_streams_in_under_512_mb() {
    let (dir, ws) = initialised();
    let tablero = || tablero(&ws);
    let big = dir.path().join("big.csv");
    let (size, copies) = sample_copies(&big, 1 << 30);

    let (code, peak_kib, out) =
        run_measured(tablero().args(["data", "upload", big.to_str().unwrap(), "--json"]));
    assert_eq!(code, 0, "{out}");
    let up: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(up["rows"], 29_070 * copies);
    assert_eq!(up["object"]["size"], size);
    let stored = ws.join("buckets/raw/big.csv");
    assert_eq!(std::fs::metadata(&stored).unwrap().len(), size);
    let peak_mib = peak_kib / 1024;
    eprintln!("uploaded {size} bytes ({copies} copies of the sample), peak RSS {peak_mib} MiB");
    assert!(peak_mib < 512, "peak RSS {peak_mib} MiB");
}

/// An upload killed outright (SIGKILL) at several points: the listing
/// afterwards shows exactly the objects in the bucket's folder, and a
/// later upload is listed.
#[test]
fn the_listing_survives_an_upload_killed_midway() {
    let (dir, ws) = initialised();
    let tablero = || tablero(&ws);
    let sample = sample_path();
    let big = dir.path().join("big.csv");
    sample_copies(&big, 100 << 20);

    let ls = || -> Vec<String> {
        let out = tablero()
            .args(["data", "ls", "raw", "--json", "--page-size", "2"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["key"].as_str().unwrap().to_string())
            .collect()
    };
    let on_disk = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(ws.join("buckets/raw"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    };
    let staged = || {
        std::fs::read_dir(ws.join("tmp"))
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".part")
            })
            .count()
    };
    let upload_sample = |key: &str| {
        let out = tablero()
            .args(["data", "upload", sample.to_str().unwrap(), "--key", key])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    upload_sample("first.csv");
    assert_eq!(ls(), ["first.csv"]);
    for (i, delay_ms) in [50u64, 300, 900, 1500, 2500].into_iter().enumerate() {
        let key = format!("killed-{i}.csv");
        let mut child = tablero()
            .args(["data", "upload", big.to_str().unwrap(), "--key", &key])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        assert_eq!(ls(), on_disk(), "killed after {delay_ms} ms");
        // The listing opened the workspace: the killed upload's staged
        // part is gone.
        assert_eq!(staged(), 0, "killed after {delay_ms} ms");
    }

    // Ctrl-C (SIGINT) midway: cancelled, nothing stored, nothing staged.
    let before = on_disk();
    let child = tablero()
        .args([
            "data",
            "upload",
            big.to_str().unwrap(),
            "--key",
            "interrupted.csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: signals our own child, which has not been waited for.
    assert_eq!(
        unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) },
        0
    );
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("cancelled"), "{stderr}");
    assert_eq!(on_disk(), before);
    assert_eq!(staged(), 0);
    std::fs::write(ws.join("buckets/raw/by-hand.csv"), b"a,b\n1,2\n").unwrap();
    assert!(ls().contains(&"by-hand.csv".to_string()));
    upload_sample("last.csv");
    assert_eq!(ls(), on_disk());
    assert!(ls().contains(&"last.csv".to_string()));
}
