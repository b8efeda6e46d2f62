//! The header and Settings: who acts, switching users and workspaces, the
//! bell.

use std::sync::Arc;

use tablero_app::session::{self, Notifications, Session, SettingsView};
use tauri::{AppHandle, Runtime, State};

use super::{Opened, Panel, Reply};
use crate::dto::UiError;

#[tauri::command]
pub async fn session<R: Runtime>(app: AppHandle<R>, panel: State<'_, Panel>) -> Reply<Session> {
    let reply = panel.with(|b| Ok(session::session(b))).await?;
    // The UI asks for the session as soon as it is mounted: the window is
    // interactive. `TABLERO_STARTUP_PROBE=print|exit` reports the time since
    // the process started (scripts/measure-desktop.sh), once.
    static PROBED: std::sync::Once = std::sync::Once::new();
    if let Ok(probe) = std::env::var("TABLERO_STARTUP_PROBE") {
        PROBED.call_once(|| {
            let ms = crate::STARTED
                .get()
                .map_or(0.0, |t| t.elapsed().as_secs_f64() * 1e3);
            println!("startup_ms={ms:.0}");
            if probe == "exit" {
                app.exit(0);
            }
        });
    }
    Ok(reply)
}

#[tauri::command]
pub async fn switch_user(panel: State<'_, Panel>, name: String) -> Reply<Session> {
    panel
        .with(move |b| {
            b.identity.switch_user(&name)?;
            Ok(session::session(b))
        })
        .await
}

/// Opens the workspace in `path` (creating one in a missing or empty
/// folder), acting as the OS user again, and remembers it for the next start.
#[tauri::command]
pub async fn workspace_open(panel: State<'_, Panel>, path: String) -> Reply<Session> {
    let kind = panel.kind.clone();
    let program = panel.program.clone();
    let opened = tauri::async_runtime::spawn_blocking(move || -> Reply<_> {
        let root = crate::workspaces::open_or_create(&path)?;
        let backend = crate::backend::open(&root, kind.as_deref(), &program)?;
        Ok(Opened { root, backend })
    })
    .await
    .map_err(|e| UiError::refused(e.to_string()))??;
    if let Some(file) = crate::workspaces::remembered_file() {
        if let Err(e) = crate::workspaces::remember(&file, &opened.root) {
            // The switch itself worked; only the next start forgets it.
            eprintln!(
                "tablero-desktop: cannot remember the workspace in {}: {e}",
                file.display()
            );
        }
    }
    let reply = session::session(&opened.backend);
    if let Ok(mut current) = panel.current.write() {
        *current = Arc::new(opened);
    }
    Ok(reply)
}

#[tauri::command]
pub async fn notifications(panel: State<'_, Panel>) -> Reply<Notifications> {
    panel
        .with(|b| Ok(session::notifications(b, "default")?))
        .await
}

#[tauri::command]
pub async fn settings(panel: State<'_, Panel>) -> Reply<SettingsView> {
    panel.with(|b| Ok(session::settings(b))).await
}

/// The workspace's `[aws]` table as TOML, or an example to start from.
#[tauri::command]
pub async fn aws_settings(panel: State<'_, Panel>) -> Reply<String> {
    let root = panel.opened().root.clone();
    tauri::async_runtime::spawn_blocking(move || crate::backend::aws_settings(&root))
        .await
        .map_err(|e| UiError::refused(e.to_string()))?
}

/// Checks an `[aws]` table without saving it: STS GetCallerIdentity, then
/// a listing of each bucket; each check says which call failed and why.
#[tauri::command]
pub async fn aws_check(text: String) -> Reply<Vec<tablero_core::ports::SettingsCheck>> {
    tauri::async_runtime::spawn_blocking(move || crate::backend::aws_check(&text))
        .await
        .map_err(|e| UiError::refused(e.to_string()))?
}

/// Saves an `[aws]` table into the workspace's tablero.toml (keeping the
/// rest), selects the AWS backend and opens it.
#[tauri::command]
pub async fn aws_save(panel: State<'_, Panel>, text: String) -> Reply<Session> {
    let root = panel.opened().root.clone();
    let save_root = root.clone();
    tauri::async_runtime::spawn_blocking(move || crate::backend::aws_save(&save_root, &text))
        .await
        .map_err(|e| UiError::refused(e.to_string()))??;
    reopen(&panel, root).await
}

/// Selects the workspace's backend (`[backend] kind` in its tablero.toml)
/// and opens it.
#[tauri::command]
pub async fn backend_select(
    panel: State<'_, Panel>,
    kind: tablero_core::ports::BackendKind,
) -> Reply<Session> {
    let root = panel.opened().root.clone();
    let at = root.clone();
    tauri::async_runtime::spawn_blocking(move || crate::backend::select(&at, kind))
        .await
        .map_err(|e| UiError::refused(e.to_string()))??;
    reopen(&panel, root).await
}

async fn reopen(panel: &State<'_, Panel>, root: std::path::PathBuf) -> Reply<Session> {
    let kind = panel.kind.clone();
    let program = panel.program.clone();
    let opened = tauri::async_runtime::spawn_blocking(move || -> Reply<_> {
        let backend = crate::backend::open(&root, kind.as_deref(), &program)?;
        Ok(Opened { root, backend })
    })
    .await
    .map_err(|e| UiError::refused(e.to_string()))??;
    let reply = session::session(&opened.backend);
    if let Ok(mut current) = panel.current.write() {
        *current = Arc::new(opened);
    }
    Ok(reply)
}
