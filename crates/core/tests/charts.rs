//! Charts: every kind renders to SVG and PNG; the SVG's structure (element
//! counts and texts) is compared with `tests/data/charts/<name>.txt`.
//! `TABLERO_UPDATE_SNAPSHOTS=1` rewrites the expectations after a deliberate
//! change; review the diff. `TABLERO_CHARTS_OUT=DIR` writes the SVGs and
//! PNGs there.

use std::collections::BTreeMap;
use std::path::PathBuf;

use tablero_core::charts::{self, Chart, LatencyPoint, RatePoint, Series};
use tablero_core::train::metrics::Confusion;

fn examples() -> Vec<(&'static str, Chart)> {
    let t0 = 1_795_000_000; // 2026-11-18
    vec![
        (
            "roc",
            Chart::Roc {
                curves: vec![
                    Series {
                        name: "v1 lr".into(),
                        points: vec![(0.0, 0.0), (0.1, 0.5), (0.4, 0.8), (1.0, 1.0)],
                    },
                    Series {
                        name: "v2 gbm".into(),
                        points: vec![(0.0, 0.0), (0.2, 0.7), (1.0, 1.0)],
                    },
                ],
            },
        ),
        (
            "metric_bars",
            Chart::MetricBars {
                title: "Holdout metrics".into(),
                groups: vec!["v1".into(), "v2".into(), "v3".into()],
                metrics: vec![
                    ("accuracy".into(), vec![0.69, 0.71, 0.66]),
                    ("AUC".into(), vec![0.74, 0.76, 0.70]),
                ],
            },
        ),
        (
            "confusion",
            Chart::Confusion {
                title: "v1 confusion matrix".into(),
                matrix: Confusion {
                    tp: 230,
                    fp: 91,
                    tn: 263,
                    fn_: 156,
                },
            },
        ),
        (
            "importance",
            Chart::Importance {
                title: "Feature importance".into(),
                features: vec![
                    ("Frequency".into(), 0.08),
                    ("Recency".into(), 0.05),
                    ("Monetary".into(), 0.01),
                ],
            },
        ),
        (
            "latency",
            Chart::Latency {
                points: (0..5)
                    .map(|i| LatencyPoint {
                        t: t0 + 60 * i,
                        p50: 0.5,
                        p90: 0.9 + i as f64 * 0.1,
                        p99: 2.0,
                    })
                    .collect(),
            },
        ),
        (
            "requests",
            Chart::Requests {
                points: (0..5)
                    .map(|i| RatePoint {
                        t: t0 + 60 * i,
                        requests: 600 + 60 * i as u64,
                        errors: i as u64,
                    })
                    .collect(),
                interval_seconds: 60,
            },
        ),
        (
            "score",
            Chart::Score {
                edges: vec![0.0, 0.25, 0.5, 0.75, 1.0],
                live: vec![0.1, 0.2, 0.3, 0.4],
                baseline: vec![0.25, 0.25, 0.25, 0.25],
            },
        ),
        (
            "drift_heatmap",
            Chart::DriftHeatmap {
                features: vec!["Recency".into(), "Frequency".into()],
                windows: vec![t0, t0 + 3600, t0 + 7200],
                psi: vec![vec![0.01, 0.12, 0.55], vec![0.02, f64::NAN, 0.03]],
            },
        ),
    ]
}

/// Element counts by tag, then every text in document order.
fn structure(svg: &str) -> String {
    let mut tags: BTreeMap<String, usize> = BTreeMap::new();
    let mut texts = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        rest = &rest[i + 1..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if name.is_empty() {
            continue;
        }
        *tags.entry(name.clone()).or_default() += 1;
        if name == "text" {
            if let (Some(a), Some(b)) = (rest.find('>'), rest.find("</text>")) {
                let t = rest[a + 1..b].trim();
                if !t.is_empty() {
                    texts.push(t.to_string());
                }
            }
        }
    }
    let mut out = String::new();
    for (t, n) in tags {
        out.push_str(&format!("<{t}> {n}\n"));
    }
    for t in texts {
        out.push_str(&format!("text: {t}\n"));
    }
    out
}

#[test]
fn every_chart_matches_its_svg_structure_and_renders_a_png() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/data/charts");
    let update = std::env::var_os("TABLERO_UPDATE_SNAPSHOTS").is_some();
    for (name, chart) in examples() {
        let svg = charts::svg(&chart).unwrap();
        assert!(svg.starts_with("<svg"), "{name}");
        assert!(svg.trim_end().ends_with("</svg>"), "{name}");
        let got = structure(&svg);
        let path = dir.join(format!("{name}.txt"));
        if update {
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (TABLERO_UPDATE_SNAPSHOTS=1 writes it)",
                path.display()
            )
        });
        assert_eq!(got, want, "{name}: SVG structure changed");

        let png = charts::png(&chart).unwrap();
        // TABLERO_CHARTS_OUT=DIR keeps the renderings for a look.
        if let Some(out) = std::env::var_os("TABLERO_CHARTS_OUT") {
            let out = PathBuf::from(out);
            std::fs::write(out.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(out.join(format!("{name}.svg")), &svg).unwrap();
        }
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}");
        // IHDR: width and height at twice the SVG size.
        let w = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let h = u32::from_be_bytes(png[20..24].try_into().unwrap());
        assert_eq!((w, h), (charts::SIZE.0 * 2, charts::SIZE.1 * 2), "{name}");
    }
}

#[test]
fn a_single_metrics_window_is_visible_on_the_time_charts() {
    // One window draws no line segment: each series marks its point.
    let t = 1_700_000_000;
    let latency = charts::svg(&Chart::Latency {
        points: vec![LatencyPoint {
            t,
            p50: 0.5,
            p90: 0.9,
            p99: 2.0,
        }],
    })
    .unwrap();
    assert_eq!(latency.matches("<circle").count(), 3, "p50, p90, p99");
    let requests = charts::svg(&Chart::Requests {
        points: vec![RatePoint {
            t,
            requests: 25,
            errors: 0,
        }],
        interval_seconds: 60,
    })
    .unwrap();
    assert_eq!(requests.matches("<circle").count(), 2, "requests, errors");
    // The minute around it is labelled with distinct times.
    let times: Vec<String> = structure(&latency)
        .lines()
        .filter_map(|l| l.strip_prefix("text: "))
        .filter(|t| t.len() == 8 && t.as_bytes()[2] == b':')
        .map(String::from)
        .collect();
    assert!(times.len() >= 3, "{times:?}");
    let distinct: std::collections::BTreeSet<&String> = times.iter().collect();
    assert_eq!(distinct.len(), times.len(), "{times:?}");
    // A long range draws lines only.
    let long = charts::svg(&Chart::Latency {
        points: (0..500)
            .map(|i| LatencyPoint {
                t: t + 60 * i,
                p50: 0.5,
                p90: 0.9,
                p99: 2.0,
            })
            .collect(),
    })
    .unwrap();
    assert_eq!(long.matches("<circle").count(), 0);
}

#[test]
fn charts_carry_their_data() {
    let all = examples();
    let svg = |n: &str| charts::svg(&all.iter().find(|(k, _)| *k == n).unwrap().1).unwrap();
    let texts = |svg: &str| -> Vec<String> {
        structure(svg)
            .lines()
            .filter_map(|l| l.strip_prefix("text: ").map(String::from))
            .collect()
    };
    // Two ROC curves and the chance line are polylines; both names are in the legend.
    let roc = svg("roc");
    assert!(roc.contains("v1 lr") && roc.contains("v2 gbm"));
    assert!(roc.matches("<polyline").count() >= 3);
    // The confusion matrix prints its four counts.
    let cm = svg("confusion");
    for n in ["230", "91", "263", "156"] {
        assert!(texts(&cm).iter().any(|t| t == n), "confusion lacks {n}");
    }
    // The heatmap colours a drifted cell red and labels its PSI.
    let heat = svg("drift_heatmap");
    let labels = texts(&heat);
    assert!(labels.iter().any(|t| t == "0.55") && labels.iter().any(|t| t == "0.12"));
    // No label where there was no traffic.
    assert_eq!(labels.iter().filter(|t| t.starts_with("0.")).count(), 5);
    assert!(
        heat.contains("#CF222E") || heat.to_lowercase().contains("#cf222e"),
        "no red cell"
    );
}

#[test]
fn png_text_uses_the_bundled_font() {
    // A caption drawn with the bundled font changes pixels; a chart whose
    // text failed to render would differ from one with text only by its
    // title. Two titles of different lengths give different images.
    let a = Chart::Importance {
        title: "A".into(),
        features: vec![("x".into(), 0.1)],
    };
    let b = Chart::Importance {
        title: "A much longer title".into(),
        features: vec![("x".into(), 0.1)],
    };
    assert_ne!(charts::png(&a).unwrap(), charts::png(&b).unwrap());
}
