//! `tablero-desktop`: the desktop panel over a local workspace.
//!
//! `tablero-desktop [--workspace DIR] [--backend KIND]` opens the panel (the
//! workspace is `--workspace`, else `$TABLERO_WORKSPACE`, else the one last
//! opened from Settings, else the platform data dir, and is created when
//! missing). `tablero-desktop serve-endpoint --workspace DIR --port N
//! [--host H] --metrics-interval S` is how the panel runs the local endpoint
//! as its own process, so it keeps serving when the panel closes.
//!
//! Only this crate knows Tauri: the commands in [`commands`] call the ports
//! of the backend that [`backend`] (the composition point) builds, and the
//! same library functions as the CLI, and return the same serde types.

pub mod backend;
pub mod commands;
pub mod dto;
pub mod workspaces;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn workspace_root(flag: Option<PathBuf>) -> PathBuf {
    workspaces::startup_root(
        flag,
        std::env::var_os("TABLERO_WORKSPACE").map(PathBuf::from),
        workspaces::remembered_file().and_then(|f| workspaces::remembered(&f)),
    )
}

/// `tablero-desktop serve-endpoint`'s flags: the endpoint's own
/// ([`tablero_serve::ServeArgs`]) and which workspace and backend.
#[derive(clap::Parser)]
struct ServeEndpoint {
    /// Workspace folder (else `$TABLERO_WORKSPACE`, else the remembered one).
    #[arg(long)]
    workspace: Option<PathBuf>,
    /// Backend (default: the workspace's `[backend] kind`, else local).
    #[arg(long)]
    backend: Option<String>,
    /// Port, address, metrics window.
    #[command(flatten)]
    serve: tablero_serve::ServeArgs,
}

/// When the process started, for the start-up probe (see `commands::session`).
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// The program: the panel, or `serve-endpoint`.
pub fn run() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--version") {
        println!("tablero-desktop {}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if args.get(1).map(String::as_str) == Some("serve-endpoint") {
        let parsed = ServeEndpoint::try_parse_from(
            std::iter::once("tablero-desktop serve-endpoint".to_string())
                .chain(args.iter().skip(2).cloned()),
        );
        let flags = match parsed {
            Ok(f) => f,
            Err(e) => {
                let _ = e.print();
                return ExitCode::from(2);
            }
        };
        let root = workspace_root(flags.workspace);
        return match backend::serve_endpoint(&root, flags.backend.as_deref(), &flags.serve) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("tablero-desktop serve-endpoint: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let kind = flag(&args, "--backend");
    let root = workspace_root(flag(&args, "--workspace").map(PathBuf::from));
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("tablero-desktop: cannot find this program: {e}");
            return ExitCode::FAILURE;
        }
    };
    let panel = match commands::Panel::open(root.clone(), program, kind) {
        Ok(p) => p,
        Err(e) => {
            eprintln!(
                "tablero-desktop: cannot open or create the workspace at {}: {}",
                root.display(),
                e.message
            );
            return ExitCode::FAILURE;
        }
    };
    let result = with_commands(tauri::Builder::default())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .manage(panel)
        .run(tauri::generate_context!());
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tablero-desktop: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Registers every command of the panel (docs/desktop.md) on a builder.
pub fn with_commands<R: tauri::Runtime>(builder: tauri::Builder<R>) -> tauri::Builder<R> {
    builder.invoke_handler(tauri::generate_handler![
        commands::session::session,
        commands::session::switch_user,
        commands::session::workspace_open,
        commands::session::notifications,
        commands::session::settings,
        commands::session::aws_settings,
        commands::session::aws_check,
        commands::session::aws_save,
        commands::session::backend_select,
        commands::data::data_list,
        commands::data::data_inspect,
        commands::data::data_upload,
        commands::data::data_upload_cancel,
        commands::data::data_preview,
        commands::data::data_delete,
        commands::data::data_trash,
        commands::data::data_restore,
        commands::pipeline::etl_clean,
        commands::pipeline::etl_features,
        commands::pipeline::train,
        commands::pipeline::training_options,
        commands::pipeline::jobs_list,
        commands::pipeline::job_show,
        commands::pipeline::job_cancel,
        commands::models::models_list,
        commands::models::model_show,
        commands::models::models_compare,
        commands::models::model_actions,
        commands::models::model_approve,
        commands::models::model_reject,
        commands::deploy::endpoint_status,
        commands::deploy::endpoint_start,
        commands::deploy::endpoint_stop,
        commands::deploy::promotion_diff,
        commands::deploy::deploy_promote,
        commands::deploy::deploy_rollback,
        commands::deploy::deploy_history,
        commands::monitor::monitor,
        commands::monitor::export_chart_png,
    ])
}
