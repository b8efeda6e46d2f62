//! The Monitor view: traffic, drift, alarms, charts.

use tablero_app::charts::{self, EndpointChart, Written};
use tablero_app::monitor::{self, MonitorView};
use tablero_app::time::TimeRange;
use tauri::State;

use super::{Panel, Reply};

#[tauri::command]
pub async fn monitor(panel: State<'_, Panel>, range: TimeRange) -> Reply<MonitorView> {
    panel.with(move |b| Ok(monitor::view(b, range)?)).await
}

#[tauri::command]
pub async fn export_chart_png(
    panel: State<'_, Panel>,
    chart: EndpointChart,
    range: TimeRange,
    path: String,
) -> Reply<Written> {
    panel
        .with(move |b| {
            Ok(charts::export_png(
                b,
                chart,
                &range.since(),
                std::path::Path::new(&path),
            )?)
        })
        .await
}
