//! Scores a batch CSV with a stored model, in process, for profiling:
//! `cargo run --release -p tablero-serve --example score_batch MODEL.json BATCH.csv [RUNS]`.

use std::time::Instant;

use tablero_core::train::model::ModelArtifact;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: score_batch MODEL.json BATCH.csv [RUNS]".into());
    }
    let artifact: ModelArtifact = serde_json::from_slice(&std::fs::read(&args[1])?)?;
    let csv = std::fs::read(&args[2])?;
    let runs: usize = args.get(3).map_or(Ok(5), |r| r.parse())?;
    for _ in 0..runs {
        let start = Instant::now();
        let scored = tablero_serve::score_csv(&artifact.model, &csv)?;
        println!(
            "{} customers, {} bytes out, {:.1} ms",
            scored.counts[0] + scored.counts[1],
            scored.bytes.len(),
            start.elapsed().as_secs_f64() * 1e3
        );
    }
    Ok(())
}
