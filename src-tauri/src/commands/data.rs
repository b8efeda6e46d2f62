//! The Data view: buckets, uploads, previews, deletion and its undo.

use tablero_app::data::{self, FileInspection, Upload, UploadCancelling};
use tablero_core::ingest::{parse_mapping, CsvOptions, Encoding};
use tablero_core::ports::{ErrorKind, TrashEntry};
use tablero_core::preview::Preview;
use tablero_core::store::{Bucket, ObjectInfo, Page};
use tauri::{AppHandle, Emitter, Runtime, State};

use super::{Panel, Reply};
use crate::dto::{UiError, UploadProgress};

/// The upload dialog's options: the `--map` entries and, when the user
/// declared one, the encoding (else detected).
fn options(map: Option<&str>, encoding: Option<Encoding>) -> Reply<CsvOptions> {
    let mapping = match map.map(str::trim).filter(|m| !m.is_empty()) {
        Some(m) => parse_mapping(m).map_err(|e| UiError::from(tablero_core::Error::from(e)))?,
        None => Vec::new(),
    };
    Ok(CsvOptions {
        mapping,
        encoding,
        ..CsvOptions::default()
    })
}

#[tauri::command]
pub async fn data_list(
    panel: State<'_, Panel>,
    bucket: Bucket,
    prefix: Option<String>,
    page_size: Option<usize>,
    page_token: Option<String>,
) -> Reply<Page> {
    panel
        .with(move |b| {
            Ok(b.store.list(
                bucket,
                prefix.as_deref().unwrap_or(""),
                page_token.as_deref(),
                page_size.unwrap_or(500).clamp(1, 10_000),
            )?)
        })
        .await
}

#[tauri::command]
pub async fn data_inspect(
    panel: State<'_, Panel>,
    path: String,
    map: Option<String>,
    encoding: Option<Encoding>,
) -> Reply<FileInspection> {
    panel
        .with(move |b| {
            let opts = options(map.as_deref(), encoding)?;
            Ok(data::inspect_file(b, std::path::Path::new(&path), &opts)?)
        })
        .await
}

#[tauri::command]
pub async fn data_upload<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    path: String,
    key: Option<String>,
    map: Option<String>,
    replace: Option<bool>,
    encoding: Option<Encoding>,
) -> Reply<Upload> {
    let cancelled = panel.cancelled_uploads.clone();
    if let Ok(mut c) = cancelled.lock() {
        c.remove(&path);
    }
    panel
        .with(move |b| {
            let opts = options(map.as_deref(), encoding)?;
            let key = key.filter(|k| !k.trim().is_empty());
            let progress = |done: u64, total: u64| {
                let _ = app.emit(
                    "upload://progress",
                    UploadProgress {
                        path: path.clone(),
                        done,
                        total,
                    },
                );
            };
            let is_cancelled = || cancelled.lock().map(|c| c.contains(&path)).unwrap_or(false);
            data::upload(
                b,
                std::path::Path::new(&path),
                key.as_deref(),
                &opts,
                replace.unwrap_or(false),
                &progress,
                &is_cancelled,
            )
            .map_err(|e| match e.kind() {
                ErrorKind::Cancelled => UiError {
                    kind: ErrorKind::Cancelled,
                    message: "upload cancelled; nothing was stored".into(),
                },
                _ => UiError::from(e),
            })
        })
        .await
}

/// Asks the running upload of `path` to stop; it stops at its next
/// checkpoint and stores nothing.
#[tauri::command]
pub async fn data_upload_cancel(panel: State<'_, Panel>, path: String) -> Reply<UploadCancelling> {
    if let Ok(mut c) = panel.cancelled_uploads.lock() {
        c.insert(path.clone());
    }
    Ok(UploadCancelling { cancelling: path })
}

#[tauri::command]
pub async fn data_preview(
    panel: State<'_, Panel>,
    bucket: Bucket,
    key: String,
    rows: Option<usize>,
) -> Reply<Preview> {
    panel
        .with(move |b| {
            Ok(data::preview(
                b,
                bucket,
                &key,
                rows.unwrap_or(20).clamp(1, 500),
            )?)
        })
        .await
}

#[tauri::command]
pub async fn data_delete(
    panel: State<'_, Panel>,
    bucket: Bucket,
    key: String,
) -> Reply<TrashEntry> {
    panel
        .with(move |b| Ok(data::delete(b, bucket, &key)?))
        .await
}

#[tauri::command]
pub async fn data_trash(panel: State<'_, Panel>) -> Reply<Vec<TrashEntry>> {
    panel.with(|b| Ok(b.store.trash()?)).await
}

#[tauri::command]
pub async fn data_restore(panel: State<'_, Panel>, id: String) -> Reply<ObjectInfo> {
    panel.with(move |b| Ok(data::restore(b, &id)?)).await
}
