//! `tablero`: every panel action from a terminal.
//!
//! `--json` makes every command print exactly one JSON document on stdout
//! and never prompt. Exit codes: 0 success, 1 failed job or refused action,
//! 2 bad usage. See docs/cli.md.
//!
//! Each command handler (`cmd/`) is a call into `tablero-app` (or a port)
//! and the rendering of its typed reply: `--json` serialises it, `human`
//! prints it for people.

// The pipeline allocates and frees a block's buffers block after block;
// mimalloc recycles them in the process, where the system allocator
// returns many to the kernel and faults them in again. Measured in
// scripts/side-by-side/README.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay`: its position in `enum mi_option_e` of
/// mimalloc.h (v3, the version libmimalloc-sys 0.1.49 builds by default;
/// the same position in v2).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory for reuse until the process ends (mimalloc would
/// return it to the kernel after 10 ms and have it zeroed again when it is
/// reused). A command's peak memory is unchanged.
///
/// And turns transparent huge pages off for the process: the kernel then
/// zeroes the 4 KiB pages a command touches rather than whole 2 MiB ones
/// (mimalloc asks for huge pages on its arena). Fresh memory is the main
/// cost left in the pipeline's stages: measured in
/// scripts/side-by-side/README.md.
fn keep_freed_memory() {
    // SAFETY: sets one allocator option before any other thread exists;
    // the function takes plain integers.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and changes only
    // how later page faults of this process are served. It cannot fail in
    // a way that matters: huge pages would stay on.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

mod args;
mod backend;
mod cmd;
mod demo;
mod failure;
mod human;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use tablero_app::session::{ErrorReply, Refusal};
use tablero_core::ports::{Backend, ErrorKind};

use crate::args::{AwsCommand, Cli, Command, EndpointCommand};
use crate::failure::Failure;

fn main() -> ExitCode {
    keep_freed_memory();
    let json = std::env::args().any(|a| a == "--json");
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind as Clap;
            if matches!(e.kind(), Clap::DisplayHelp | Clap::DisplayVersion) || !json {
                let _ = e.print();
                return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
            }
            print_json(&error_reply(ErrorKind::Usage, e.to_string().trim()));
            return ExitCode::from(2);
        }
    };
    match run(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            if cli.json {
                print_json(&error_reply(f.kind, &f.message));
            } else {
                eprintln!("error: {}", f.message);
            }
            ExitCode::from(f.code)
        }
    }
}

fn error_reply(kind: ErrorKind, message: &str) -> ErrorReply {
    ErrorReply {
        error: Refusal {
            kind,
            message: message.to_string(),
        },
    }
}

fn print_json<T: serde::Serialize>(v: &T) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

/// Prints a reply: the JSON document with `--json`, else `human`.
fn emit<T: serde::Serialize>(cli: &Cli, value: &T, human: impl FnOnce(&T)) {
    if cli.json {
        print_json(value);
    } else {
        human(value);
    }
}

fn root(cli: &Cli) -> PathBuf {
    cli.workspace.clone().unwrap_or_else(backend::default_root)
}

/// The backend, built once for this command.
fn open(cli: &Cli) -> Result<Backend, Failure> {
    backend::open(&root(cli), cli.backend.as_deref(), cli.as_user.as_deref())
}

fn run(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Init => {
            let made = backend::init(&root(cli), cli.backend.as_deref())?;
            let reply = tablero_app::session::initialised(&made.backend, &made.config);
            emit(cli, &reply, human::init);
            Ok(0)
        }
        Command::Data(c) => cmd::data::run(cli, c),
        Command::Etl(c) => cmd::pipeline::etl(cli, c),
        Command::Jobs(c) => cmd::pipeline::jobs(cli, c),
        Command::Train(a) => cmd::pipeline::train(cli, a),
        Command::Models(c) => cmd::models::run(cli, c),
        Command::Policy(c) => cmd::models::policy(cli, c),
        Command::Report {
            target,
            out,
            group,
            since,
        } => cmd::models::report(cli, target, out, group, since),
        Command::Endpoint(EndpointCommand::Serve(args)) => {
            backend::serve(&root(cli), cli.backend.as_deref(), args)?;
            Ok(0)
        }
        Command::Endpoint(c) => cmd::deploy::endpoint(cli, c),
        Command::Deploy(c) => cmd::deploy::run(cli, c),
        Command::Keys(c) => cmd::deploy::keys(cli, c),
        Command::Monitor(c) => cmd::monitor::run(cli, c),
        Command::Audit { since } => cmd::monitor::audit(cli, since),
        Command::Aws(AwsCommand::Check) => {
            let checks = backend::aws_check(&root(cli))?;
            let failed = checks.iter().any(|c| !c.ok);
            emit(cli, &checks, human::aws_checks);
            Ok(u8::from(failed))
        }
        Command::Demo { seconds, port } => {
            let out = demo::run(
                &root(cli),
                cli.backend.as_deref(),
                *seconds,
                *port,
                cli.json,
            )?;
            emit(cli, &out, human::demo);
            Ok(0)
        }
    }
}

/// `--since`: a duration (`1h`, `24h`, `7d`) or a UTC date.
fn parse_since(s: &str) -> Result<String, Failure> {
    tablero_app::time::since(s).map_err(|e| Failure::usage(format!("--since {e}")))
}
