//! `bootstrap` outside Lambda: the configuration it needs is named. (The
//! handler itself runs under a local Lambda in crates/aws/tests/etl.rs,
//! which uses this build of the binary.)

use std::process::Command;

#[test]
fn without_its_buckets_the_function_says_which_variable_to_set() {
    let out = Command::new(env!("CARGO_BIN_EXE_bootstrap"))
        .env_remove("TABLERO_RAW_BUCKET")
        .env("AWS_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TABLERO_RAW_BUCKET"), "{err}");
}
