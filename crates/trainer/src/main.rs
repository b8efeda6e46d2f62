//! `tablero-train [train]`: the training container's entry point (SageMaker
//! runs the image with the argument `train`). The root is `/opt/ml`, or
//! `TABLERO_OPT_ML` (tests, running outside a container).

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None | Some("train") => {}
        Some(other) => {
            eprintln!("tablero-train: unknown command {other:?}; the only one is `train`");
            return ExitCode::from(2);
        }
    }
    let root = std::env::var_os("TABLERO_OPT_ML")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/ml"));
    let mut stdout = std::io::stdout();
    match tablero_trainer::train(&root, &mut stdout) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tablero-train: {e}");
            ExitCode::FAILURE
        }
    }
}
