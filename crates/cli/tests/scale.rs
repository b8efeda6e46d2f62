//! Uploads at scale, as a user runs them: a generated 1 GB file through the
//! `tablero` binary, in memory independent of the file's size.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// The child's peak resident memory in KiB (`ru_maxrss` from `wait4`,
/// the kernel's record of its high-water mark), and its exit status.
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

#[test]
fn a_1_gb_upload_streams_in_under_512_mb() {
    let dir = tempfile::tempdir().unwrap();
    let ws = dir.path().join("ws");
    let tablero = || {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tablero"));
        c.env("TABLERO_WORKSPACE", &ws).stdin(Stdio::null());
        c
    };
    assert!(tablero().arg("init").status().unwrap().success());

    let sample = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../assets/sample/online_retail_sample.csv"),
    )
    .unwrap();
    let body = sample.iter().position(|&b| b == b'\n').unwrap() + 1;
    let big = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&big).unwrap());
    f.write_all(&sample).unwrap();
    let mut size = sample.len() as u64;
    let mut copies = 1u64;
    while size < 1 << 30 {
        f.write_all(&sample[body..]).unwrap();
        size += (sample.len() - body) as u64;
        copies += 1;
    }
    f.flush().unwrap();
    drop(f);

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
