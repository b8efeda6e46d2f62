//! The Deploy view: the endpoint, promotion, rollback, history.

use tablero_app::deploy::{self, DeployHistory};
use tablero_app::monitor::PromotionDiffView;
use tablero_core::ports::{Deployment, EndpointOptions, EndpointStopped, Rollout};
use tauri::{AppHandle, Emitter, Runtime, State};

use super::{group_or_default, Panel, Reply};
use crate::dto::EndpointState;

#[tauri::command]
pub async fn endpoint_status(panel: State<'_, Panel>) -> Reply<EndpointState> {
    panel
        .with(|b| Ok(EndpointState::from(b.deployer.endpoint_status()?)))
        .await
}

#[tauri::command]
pub async fn endpoint_start(
    panel: State<'_, Panel>,
    port: Option<u16>,
    metrics_interval: Option<u64>,
) -> Reply<EndpointState> {
    panel
        .with(move |b| {
            // Tests and demos shorten the metrics window.
            let interval = metrics_interval
                .or_else(|| {
                    std::env::var("TABLERO_METRICS_INTERVAL")
                        .ok()
                        .and_then(|v| v.parse().ok())
                })
                .unwrap_or(60);
            deploy::start_endpoint(
                b,
                &EndpointOptions {
                    port: port.unwrap_or(8080),
                    metrics_interval: interval,
                    ..EndpointOptions::default()
                },
            )?;
            Ok(EndpointState::from(b.deployer.endpoint_status()?))
        })
        .await
}

#[tauri::command]
pub async fn endpoint_stop(panel: State<'_, Panel>) -> Reply<EndpointStopped> {
    panel.with(|b| Ok(deploy::stop_endpoint(b)?)).await
}

#[tauri::command]
pub async fn promotion_diff(
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<PromotionDiffView> {
    let group = group_or_default(group);
    panel
        .with(move |b| Ok(tablero_app::monitor::promotion_view(b, &group, version)?))
        .await
}

/// Each step of a rollout, as the event `deploy://rollout` (on AWS ECS
/// takes minutes: the Deploy view shows how far it got).
fn rollout_events<R: Runtime>(app: AppHandle<R>) -> impl Fn(&Rollout) {
    move |r| {
        let _ = app.emit("deploy://rollout", r);
    }
}

#[tauri::command]
pub async fn deploy_promote<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
    version: u32,
    group: Option<String>,
) -> Reply<Deployment> {
    let group = group_or_default(group);
    let progress = rollout_events(app);
    panel
        .with(move |b| Ok(deploy::promote(b, &group, version, &progress)?.deployment))
        .await
}

#[tauri::command]
pub async fn deploy_rollback<R: Runtime>(
    app: AppHandle<R>,
    panel: State<'_, Panel>,
) -> Reply<Deployment> {
    let progress = rollout_events(app);
    panel
        .with(move |b| Ok(deploy::rollback(b, &progress)?.deployment))
        .await
}

#[tauri::command]
pub async fn deploy_history(panel: State<'_, Panel>) -> Reply<DeployHistory> {
    panel.with(|b| Ok(deploy::history(b)?)).await
}
