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
