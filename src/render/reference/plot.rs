//! The pictures of reference matching and of the assistant, drawn with the report's plot
//! helpers (`report::plot`): curves over a logarithmic frequency axis.

use plotters::prelude::*;

use super::assist::AssistRecord;
use super::ReferenceRecord;
use crate::render::report::plot::{
    clamped, configure_mesh, draw_curve, draw_header, level_range, plot_err, px, render_png_sized,
    Curve, StepAxis, HEADER_PX, MASTER, PLOT_HEIGHT, PLOT_WIDTH, TARGET,
};
use crate::render::report::ReportError;

const MIX: RGBColor = RGBColor(0x9a, 0xa3, 0xae);
const REFERENCE: RGBColor = RGBColor(0xd9, 0x82, 0x1e);
const SIDE: RGBColor = RGBColor(0x2e, 0x8b, 0x57);

const TICKS_HZ: [f64; 10] = [
    20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0,
];

fn hz_label(f: &f64) -> String {
    if *f >= 1000.0 {
        format!("{}k", f / 1000.0)
    } else {
        format!("{f}")
    }
}

/// Curves `(style, points)` over 20 Hz–20 kHz, level grid every `step` dB.
fn frequency_plot_png(
    title: &str,
    y_desc: &str,
    curves: &[(Curve<'_>, Vec<(f64, f64)>)],
    step: f64,
    max_span: f64,
) -> Result<Vec<u8>, ReportError> {
    let ys = curves
        .iter()
        .flat_map(|c| c.1.iter().map(|p| p.1))
        .filter(|y| y.is_finite());
    let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi)
    } else {
        (-6.0, 6.0)
    };
    let (bottom, top) = level_range(lo, hi, step, max_span, 0.05);
    let styles: Vec<Curve<'_>> = curves.iter().map(|c| c.0).collect();
    render_png_sized(PLOT_WIDTH, PLOT_HEIGHT, |root| {
        draw_header(root, title, &styles)?;
        let mut chart = ChartBuilder::on(root)
            .margin(px(16))
            .margin_top(px(HEADER_PX + 6))
            .x_label_area_size(px(48))
            .y_label_area_size(px(64))
            .build_cartesian_2d(
                (20.0..20_000.0)
                    .log_scale()
                    .with_key_points(TICKS_HZ.to_vec()),
                StepAxis::new(bottom..top, step, step),
            )
            .map_err(plot_err)?;
        configure_mesh(&mut chart, "Frequency (Hz)", y_desc, &hz_label)?;
        for (style, points) in curves {
            draw_curve(&mut chart, *style, clamped(points, bottom))?;
        }
        Ok(())
    })
}

/// The mid spectra of mix, reference and master, each relative to its K-weighted level.
pub fn spectra_png(r: &ReferenceRecord) -> Result<Vec<u8>, ReportError> {
    let pick = |f: fn(&super::CurvePoint) -> Option<f64>| -> Vec<(f64, f64)> {
        r.curve
            .iter()
            .filter_map(|p| f(p).map(|v| (p.freq_hz, v)))
            .collect()
    };
    let curves = [
        (
            Curve {
                label: "Mix",
                color: MIX,
                dashed: false,
            },
            pick(|p| p.mix_db),
        ),
        (
            Curve {
                label: "Reference",
                color: REFERENCE,
                dashed: false,
            },
            pick(|p| p.reference_db),
        ),
        (
            Curve {
                label: "Master",
                color: MASTER,
                dashed: false,
            },
            r.master_mid_db.clone(),
        ),
    ];
    frequency_plot_png(
        "Mid spectra, loudest sections (1/6 octave, re K-weighted level)",
        "Band level (dB)",
        &curves,
        6.0,
        72.0,
    )
}

/// The wanted curve, the applied mid curve and the applied side (width) curve, between the
/// ±limit lines no section may pass.
pub fn curve_png(r: &ReferenceRecord) -> Result<Vec<u8>, ReportError> {
    let pts = |f: fn(&super::CurvePoint) -> f64| -> Vec<(f64, f64)> {
        r.curve.iter().map(|p| (p.freq_hz, f(p))).collect()
    };
    let limit = |sign: f64| -> Vec<(f64, f64)> {
        vec![
            (20.0, sign * r.curve_limit_db),
            (20_000.0, sign * r.curve_limit_db),
        ]
    };
    let limit_label = format!("±{:.0} dB limit", r.curve_limit_db);
    let curves = [
        (
            Curve {
                label: &limit_label,
                color: MIX,
                dashed: true,
            },
            limit(1.0),
        ),
        (
            Curve {
                label: "",
                color: MIX,
                dashed: true,
            },
            limit(-1.0),
        ),
        (
            Curve {
                label: "Wanted (100 %)",
                color: TARGET,
                dashed: true,
            },
            pts(|p| p.wanted_db),
        ),
        (
            Curve {
                label: "Applied, L and R",
                color: MASTER,
                dashed: false,
            },
            pts(|p| p.applied_db),
        ),
        (
            Curve {
                label: "Applied, side only",
                color: SIDE,
                dashed: false,
            },
            pts(|p| p.side_applied_db),
        ),
    ];
    frequency_plot_png("Match curve", "Gain (dB)", &curves, 2.0, 16.0)
}

/// The mix's density against the assistant's target and its tolerance band.
pub fn assist_png(a: &AssistRecord) -> Result<Vec<u8>, ReportError> {
    let pts = |f: &dyn Fn(&super::assist::AssistPoint) -> f64| -> Vec<(f64, f64)> {
        a.points.iter().map(|p| (p.freq_hz, f(p))).collect()
    };
    let curves = [
        (
            Curve {
                label: "Mix",
                color: MASTER,
                dashed: false,
            },
            pts(&|p| p.mix_db),
        ),
        (
            Curve {
                label: "Target",
                color: TARGET,
                dashed: false,
            },
            pts(&|p| p.target_db),
        ),
        (
            Curve {
                label: "Tolerance",
                color: MIX,
                dashed: true,
            },
            pts(&|p| p.target_db + a.tolerance_db),
        ),
        (
            Curve {
                label: "",
                color: MIX,
                dashed: true,
            },
            pts(&|p| p.target_db - a.tolerance_db),
        ),
    ];
    frequency_plot_png(
        "Tonal balance against the target slope (mid, density)",
        "Level (dB per Hz, relative)",
        &curves,
        6.0,
        72.0,
    )
}
