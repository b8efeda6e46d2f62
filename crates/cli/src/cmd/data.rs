//! `tablero data …`: upload, list, preview, get, rm, trash, restore.

use std::io::IsTerminal;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use tablero_app::data::{self, Deleted, FileFormat, Restored, TrashList};
use tablero_core::ingest::{self, CsvOptions, Encoding};
use tablero_core::store::Bucket;

use crate::args::{Cli, DataCommand, FormatArg, UploadArgs};
use crate::failure::Failure;
use crate::{emit, human, open};

fn parse_delimiter(s: &str) -> Result<u8, Failure> {
    match s {
        "\\t" | "\t" | "tab" | "TAB" => Ok(b'\t'),
        "," | ";" | "|" => Ok(s.as_bytes()[0]),
        other => Err(Failure::usage(format!(
            "--delimiter {other:?}: use ',', ';', '\\t' (or tab) or '|'"
        ))),
    }
}

fn bytes_bar(cli: &Cli, total: u64, msg: &str) -> ProgressBar {
    if cli.json || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(msg.to_string());
    pb
}

fn options(a: &UploadArgs) -> Result<CsvOptions, Failure> {
    Ok(CsvOptions {
        encoding: match &a.encoding {
            Some(e) => Some(Encoding::from_name(e).ok_or_else(|| {
                Failure::usage(format!(
                    "--encoding {e:?}: use utf-8, windows-1252 or latin-1"
                ))
            })?),
            None => None,
        },
        delimiter: a.delimiter.as_deref().map(parse_delimiter).transpose()?,
        date_format: a.date_format.clone(),
        mapping: match &a.map {
            Some(m) => ingest::parse_mapping(m).map_err(|e| Failure::usage(e.to_string()))?,
            None => Vec::new(),
        },
    })
}

pub(crate) fn run(cli: &Cli, cmd: &DataCommand) -> Result<u8, Failure> {
    let b = open(cli)?;
    match cmd {
        DataCommand::Upload(a) => {
            let opts = options(a)?;
            let size = std::fs::metadata(&a.file)
                .with_context(|| format!("cannot read {}", a.file.display()))?
                .len();
            let pb = bytes_bar(cli, size, "uploading");
            // Ctrl-C stops the upload within a block; nothing is stored.
            // A second Ctrl-C quits at once: the part staged in tmp/ is
            // removed the next time a program opens the workspace.
            let interrupted = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let flag = interrupted.clone();
            let _ = ctrlc::set_handler(move || {
                if flag.swap(true, std::sync::atomic::Ordering::SeqCst) {
                    std::process::exit(130);
                }
                eprintln!("\nCancelling the upload (press Ctrl-C again to quit at once)…");
            });
            let up = data::upload(
                &b,
                &a.file,
                a.key.as_deref(),
                &opts,
                a.replace,
                &|done, _| pb.set_position(done),
                &|| interrupted.load(std::sync::atomic::Ordering::SeqCst),
            );
            pb.finish_and_clear();
            let up = up?;
            pb.finish_and_clear();
            emit(cli, &up, human::upload);
        }
        DataCommand::Ls {
            bucket,
            prefix,
            page_size,
            page_token,
        } => {
            let bucket = Bucket::from(*bucket);
            let page = match page_token {
                Some(t) => b.store.list(bucket, prefix, Some(t), *page_size)?,
                None => data::list_all(&b, bucket, prefix, *page_size)?,
            };
            emit(cli, &page, |p| {
                human::listing(&p.objects, p.next_token.as_deref())
            });
        }
        DataCommand::Preview { bucket, key, rows } => {
            let p = data::preview(&b, (*bucket).into(), key, *rows)?;
            emit(cli, &p, human::preview);
        }
        DataCommand::Get {
            bucket,
            key,
            out,
            format,
            force,
        } => {
            let format = format.map(|f| match f {
                FormatArg::Csv => FileFormat::Csv,
                FormatArg::Parquet => FileFormat::Parquet,
            });
            let e = data::export(&b, (*bucket).into(), key, out, format, *force)?;
            emit(cli, &e, |e| {
                println!("Wrote {} ({} bytes)", e.path.display(), e.bytes)
            });
        }
        DataCommand::Rm { bucket, key, yes } => {
            let bucket = Bucket::from(*bucket);
            if !yes {
                if cli.json {
                    return Err(Failure::usage(
                        "data rm with --json needs --yes (it never prompts)",
                    ));
                }
                eprint!("Delete {bucket}/{key}? It will be moved to the workspace trash. [y/N] ");
                let mut answer = String::new();
                let _ = std::io::stdin().read_line(&mut answer);
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    eprintln!("Not deleted.");
                    return Ok(1);
                }
            }
            let entry = data::delete(&b, bucket, key)?;
            emit(cli, &Deleted::from(&entry), human::deleted);
        }
        DataCommand::Trash => {
            let trash = TrashList {
                trash: b.store.trash()?,
            };
            emit(cli, &trash, |t| human::trash(&t.trash));
        }
        DataCommand::Restore { id } => {
            let restored = Restored {
                restored: data::restore(&b, id)?,
            };
            emit(cli, &restored, |r| {
                println!(
                    "Restored {}/{} ({} bytes)",
                    r.restored.bucket, r.restored.key, r.restored.size
                )
            });
        }
    }
    Ok(0)
}
