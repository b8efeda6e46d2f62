//! The training container's entry point under SageMaker's contract
//! (bring-your-own-container): hyperparameters from
//! `<root>/input/config/hyperparameters.json` (all values strings), the
//! features table from `<root>/input/data/train/`, the model artifact, its
//! card and the training summary written to `<root>/model/`, the reason of
//! a failure to `<root>/output/failure`, and metric lines on stdout for
//! the job's metric definitions. It trains with the same function as a
//! local training job and registers nothing: Tablero registers the version
//! when the job has completed, as the person who created it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use tablero_core::job::{LogLevel, NoProgress};
use tablero_core::stages::{self, TrainInput};
use tablero_core::train::container::{self, TrainingSpec};

/// Why training failed (the text written to `output/failure`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file of the contract could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// Where.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The job's input is wrong (hyperparameters, data channel, table).
    #[error("{0}")]
    Input(String),
}

fn io<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> Error + 'a {
    move |source| Error::Io {
        what,
        path: path.to_path_buf(),
        source,
    }
}

/// The hyperparameters file; absent means none given.
fn hyperparameters(root: &Path) -> Result<BTreeMap<String, String>, Error> {
    let path = root.join("input/config/hyperparameters.json");
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(e) => return Err(io("cannot read", &path)(e)),
    };
    serde_json::from_str(&text).map_err(|e| {
        Error::Input(format!(
            "{} is not a JSON object of strings: {e}",
            path.display()
        ))
    })
}

/// The one features table of the `train` channel.
fn features_file(root: &Path) -> Result<PathBuf, Error> {
    let dir = root.join("input/data/train");
    let mut files = Vec::new();
    for entry in fs::read_dir(&dir).map_err(io("cannot list the train channel", &dir))? {
        let entry = entry.map_err(io("cannot list the train channel", &dir))?;
        if entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    match files.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(Error::Input(format!(
            "the train channel {} is empty: give the S3 key of a features table",
            dir.display()
        ))),
        many => Err(Error::Input(format!(
            "the train channel {} holds {} files; give the key of one features table",
            dir.display(),
            many.len()
        ))),
    }
}

/// Trains: reads the contract's inputs, writes the model files, prints
/// the metric lines and the log. On failure writes `output/failure` and
/// returns the error (the process then exits non-zero).
pub fn train(root: &Path, out: &mut dyn std::io::Write) -> Result<(), Error> {
    let result = train_inner(root, out);
    if let Err(e) = &result {
        let dir = root.join("output");
        let _ = fs::create_dir_all(&dir);
        // SageMaker shows the first 1024 characters as FailureReason.
        fs::write(dir.join("failure"), e.to_string()).map_err(io("cannot write", &dir))?;
    }
    result
}

fn train_inner(root: &Path, out: &mut dyn std::io::Write) -> Result<(), Error> {
    let spec = TrainingSpec::from_hyperparameters(&hyperparameters(root)?).map_err(Error::Input)?;
    let file = features_file(root)?;
    let bytes = fs::read(&file).map_err(io("cannot read", &file))?;
    let name = file.display().to_string();
    let uri = std::env::var("TABLERO_DATASET_URI").unwrap_or_else(|_| name.clone());
    let input = TrainInput {
        bytes: &bytes,
        name: &name,
        dataset_uri: &uri,
        group: &spec.group,
        config: &spec.config,
        trained_by: &spec.trained_by,
    };
    let lines = std::cell::RefCell::new(Vec::new());
    let log = |level: LogLevel, message: &str| {
        lines.borrow_mut().push(format!("[{level}] {message}"));
    };
    let trained = stages::train_table(&input, &NoProgress, &log);
    for l in lines.borrow().iter() {
        let _ = writeln!(out, "{l}");
    }
    let (trained, artifact) = trained.map_err(|e| Error::Input(e.to_string()))?;
    let model_dir = root.join("model");
    fs::create_dir_all(&model_dir).map_err(io("cannot create", &model_dir))?;
    let card = serde_json::to_vec_pretty(&trained.card)
        .map_err(|e| Error::Input(format!("the model card does not serialise: {e}")))?;
    let summary = serde_json::to_vec_pretty(&trained)
        .map_err(|e| Error::Input(format!("the training summary does not serialise: {e}")))?;
    for (file, bytes) in [
        (container::MODEL_FILE, artifact.as_slice()),
        (container::CARD_FILE, card.as_slice()),
        (container::TRAINED_FILE, summary.as_slice()),
    ] {
        let path = model_dir.join(file);
        fs::write(&path, bytes).map_err(io("cannot write", &path))?;
    }
    for line in container::metric_lines(&trained.card.evaluation) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "[info] {} wins; model written to {}",
        trained.card.evaluation.winner.id(),
        model_dir.display()
    );
    Ok(())
}
