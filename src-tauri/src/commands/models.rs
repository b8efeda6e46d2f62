//! The Models view: versions, cards, comparison, decisions.

use tablero_app::models::{self, ComparisonView, ModelActions, VersionDetail, VersionList};
use tablero_core::registry::ModelVersion;
use tauri::State;

use super::{group_or_default, Panel, Reply};

#[tauri::command]
pub async fn models_list(panel: State<'_, Panel>, group: Option<String>) -> Reply<VersionList> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(models::list(b, &group, None)?))
        .await
}

#[tauri::command]
pub async fn model_show(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<VersionDetail> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(models::show(b, &group, version)?))
        .await
}

#[tauri::command]
pub async fn models_compare(
    panel: State<'_, Panel>,
    versions: Vec<u32>,
    group: Option<String>,
) -> Reply<ComparisonView> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(models::comparison_view(b, &group, &versions)?))
        .await
}

#[tauri::command]
pub async fn model_actions(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<ModelActions> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(models::actions(b, &group, version)?))
        .await
}

#[tauri::command]
pub async fn model_approve(
    panel: State<'_, Panel>,
    version: u32,
    comment: String,
    accept_leakage_risk: Option<bool>,
    group: Option<String>,
) -> Reply<ModelVersion> {
    let group = group_or_default(group);
    panel
        .with(move |b| {
            Ok(models::approve(
                b,
                &group,
                version,
                &comment,
                accept_leakage_risk.unwrap_or(false),
            )?)
        })
        .await
}

#[tauri::command]
pub async fn model_reject(
    panel: State<'_, Panel>,
    version: u32,
    comment: String,
    group: Option<String>,
) -> Reply<ModelVersion> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(models::reject(b, &group, version, &comment)?))
        .await
}
