//! Architecture invariants that can be checked are checked
//! (docs/ARCHITECTURE.md, "Invariants").

use std::collections::HashSet;
use std::process::Command;

/// Packages `tablero-core` must never depend on, even indirectly: it does no
/// I/O of its own, so no database, no HTTP server, no desktop shell, no cloud SDK.
fn forbidden(name: &str) -> bool {
    matches!(
        name,
        "rusqlite" | "libsqlite3-sys" | "axum" | "tauri" | "aws-config" | "reqwest"
    ) || name.starts_with("aws-sdk-")
        || name.starts_with("tauri-")
}

#[test]
fn core_depends_on_no_backend_or_app_crate() {
    // `cargo tree` resolves features the way the build does (cargo
    // metadata lists optional dependencies that are never enabled).
    let names = tree("tablero-core");
    assert!(
        names.contains("polars"),
        "the tree lists the real dependencies: {names:?}"
    );
    let mut bad: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| forbidden(n))
        .collect();
    bad.sort_unstable();
    assert!(bad.is_empty(), "tablero-core depends on {bad:?}");
}

/// Every name in `cargo tree -p PACKAGE` (normal dependencies).
fn tree(package: &str) -> HashSet<String> {
    let cargo = option_env!("CARGO").unwrap_or("cargo");
    let out = Command::new(cargo)
        .args([
            "tree",
            "-p",
            package,
            "-e",
            "normal",
            "--target",
            "all",
            "--prefix",
            "none",
            "--manifest-path",
        ])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(String::from))
        .collect()
}

#[test]
fn only_the_desktop_crate_knows_tauri() {
    assert!(
        tree("tablero-desktop").contains("tauri"),
        "the check sees Tauri"
    );
    for package in ["tablero-local", "tablero-serve", "tablero-cli"] {
        let names = tree(package);
        let tauri: Vec<&String> = names
            .iter()
            .filter(|n| *n == "tauri" || n.starts_with("tauri-") || *n == "wry")
            .collect();
        assert!(tauri.is_empty(), "{package} depends on {tauri:?}");
    }
}

/// The files of the three composition points: the only product code
/// outside `crates/local` that may name the local backend.
const COMPOSITION_POINTS: [&str; 3] = [
    "crates/cli/src/backend.rs",
    "src-tauri/src/backend.rs",
    "crates/serve/src/main.rs",
];

fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_composition_points_name_the_local_backend() {
    // Product code: every crate's `src/`. (Tests and benchmarks build their
    // fixtures with the local backend, as the conformance suite does.)
    let root = repo();
    let mut dirs: Vec<std::path::PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    dirs.push(root.join("src-tauri/src"));
    let mut files = Vec::new();
    for d in &dirs {
        rust_files(d, &mut files);
    }
    // The AWS backend keeps the workspace's jobs, deployer and monitor
    // until they move to AWS (docs/aws.md): it builds them over its ports.
    let allowed = |rel: &str| {
        rel.starts_with("crates/local/")
            || rel.starts_with("crates/aws/")
            || COMPOSITION_POINTS.contains(&rel)
    };
    let mut offenders = Vec::new();
    let mut seen_in_points = 0;
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(f).unwrap();
        if text.contains("tablero_local") {
            if allowed(&rel) {
                seen_in_points += usize::from(COMPOSITION_POINTS.contains(&rel.as_str()));
            } else {
                offenders.push(rel);
            }
        }
    }
    assert!(
        files.len() > 40,
        "the walk sees the sources: {}",
        files.len()
    );
    assert_eq!(
        seen_in_points, 3,
        "each composition point builds the backend"
    );
    assert!(
        offenders.is_empty(),
        "only {COMPOSITION_POINTS:?} (and crates/local, crates/aws) may name tablero_local; also: {offenders:?}"
    );
}

/// The AWS SDK is about two million lines of Rust: only `crates/aws`
/// depends on it, and the other crates reach it only through their `aws`
/// feature, off by default.
#[test]
fn only_crates_aws_knows_the_aws_sdk() {
    let root = repo();
    let mut manifests = vec![root.join("src-tauri/Cargo.toml"), root.join("Cargo.toml")];
    for e in std::fs::read_dir(root.join("crates")).unwrap() {
        let m = e.unwrap().path().join("Cargo.toml");
        if m.is_file() {
            manifests.push(m);
        }
    }
    let mut seen_aws = false;
    for m in &manifests {
        let text = std::fs::read_to_string(m).unwrap();
        let rel = m
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let names_sdk = text.lines().any(|l| {
            let l = l.trim_start();
            l.starts_with("aws-sdk-") || l.starts_with("aws-config") || l.starts_with("aws-smithy")
        });
        if rel == "crates/aws/Cargo.toml" {
            seen_aws = names_sdk;
        } else {
            assert!(
                !names_sdk,
                "{rel} names an AWS SDK crate: only crates/aws may"
            );
        }
        // The ETL Lambda's binary is the AWS backend's other face: it is
        // built only in the AWS step (scripts/test.sh).
        let aws_only = rel == "crates/aws/Cargo.toml" || rel == "crates/lambda/Cargo.toml";
        if text.contains("tablero-aws") && rel != "Cargo.toml" && !aws_only {
            assert!(
                text.contains("tablero-aws = { workspace = true, optional = true }"),
                "{rel}: tablero-aws only behind the aws feature"
            );
        }
    }
    assert!(seen_aws, "the check sees crates/aws's SDK dependencies");
    for package in [
        "tablero-cli",
        "tablero-desktop",
        "tablero-serve",
        "tablero-local",
        "tablero-app",
        "tablero-trainer",
    ] {
        let sdk: Vec<String> = tree(package)
            .into_iter()
            .filter(|n| n.starts_with("aws-"))
            .collect();
        assert!(
            sdk.is_empty(),
            "{package} without its aws feature depends on {sdk:?}"
        );
    }
}

#[test]
fn the_use_case_layer_knows_no_backend() {
    let names = tree("tablero-app");
    assert!(names.contains("tablero-core"), "{names:?}");
    let mut bad: Vec<&str> = names
        .iter()
        .map(String::as_str)
        .filter(|n| forbidden(n) || *n == "tablero-local" || *n == "tablero-aws")
        .collect();
    bad.sort_unstable();
    assert!(bad.is_empty(), "tablero-app depends on {bad:?}");
}

/// Calls that carry a product rule: the rule functions of `tablero-core`,
/// the port methods whose rules `tablero-app` applies first, and time-range
/// arithmetic (`tablero_app::time`).
const RULES: &[&str] = &[
    "check_group(",
    "check_comment(",
    "check_key(",
    "decision_refusal(",
    "leakage_refusal(",
    "promotion_refusal(",
    "rollback_target(",
    "evaluate_alarms(",
    "alarm_states(",
    "bin_of_value(",
    "split_at_rows(",
    ".decide(",
    ".deploy(",
    ".authorize(",
    ".register(",
    ".put(",
    ".submit(",
    ".create_key(",
    ".revoke_key(",
    "Duration::hours(",
    "Duration::days(",
];

#[test]
fn the_entry_points_hold_no_rule() {
    let root = repo();
    let mut files = Vec::new();
    for dir in ["crates/cli/src", "src-tauri/src"] {
        rust_files(&root.join(dir), &mut files);
    }
    assert!(
        files.len() > 10,
        "the walk sees the sources: {}",
        files.len()
    );
    let mut offenders = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for rule in RULES.iter().filter(|r| code.contains(**r)) {
                offenders.push(format!(
                    "{}:{}: {rule}",
                    file.strip_prefix(&root).unwrap_or(file).display(),
                    n + 1
                ));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "the CLI and the panel call tablero-app for these: {offenders:?}"
    );
}
