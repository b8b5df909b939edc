//! Limiter and loudness panel: input and output peak and true peak, momentary / short-term /
//! integrated loudness, loudness range, PLR, the target with its tolerance, the Learn state,
//! and what each platform's normalisation will do to this master.

use std::sync::atomic::Ordering;

use egui::{Color32, Ui};
use nice_plug::prelude::*;

use super::widgets::{enum_picker, format_value, level_bar, slider, toggle};
use super::LatheEditor;
use crate::dsp::platforms::Platform;

/// How far from the target the integrated loudness may sit and still count as on target, LU.
/// EBU R 128 (2020) allows ±1 LU where exact normalisation is not achievable; the same band
/// is shown for every destination.
pub const TARGET_TOLERANCE_LU: f32 = 1.0;

/// Meter ranges: loudness from -36 LUFS, peaks from -48 dBFS, both to 0.
const LOUDNESS_FLOOR: f32 = -36.0;
const PEAK_FLOOR: f32 = -48.0;

/// The learn state's words (codes from `plugin::learn_state_code`).
pub fn learn_state_text(code: u32) -> &'static str {
    match code {
        0 => "Off",
        1 => "Measuring…",
        2 => "Learning",
        3 => "Out of range",
        4 => "Full (held)",
        _ => "?",
    }
}

/// Target preset, custom level, Learn and its state.
pub fn target_controls(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let tg = &editor.params.target;
    enum_picker(ui, "target_preset", "Target", &tg.preset, setter);
    if tg.preset.value() == Platform::Custom {
        slider(ui, "Custom target", &tg.lufs, setter);
    }
    ui.horizontal(|ui| {
        toggle(ui, "Learn", &tg.learn, setter)
            .on_hover_text("Measure the program and set the drive so the output hits the target");
        let m = &editor.meters;
        let code = m.learn_state.load(Ordering::Relaxed);
        let gain = m.learned_gain_db.load(Ordering::Relaxed);
        ui.label(format!(
            "{} · learned {:+.1} dB",
            learn_state_text(code),
            gain
        ));
    });
}

/// Peak, true peak and loudness meters with the target band.
pub fn loudness_meters(editor: &LatheEditor, ui: &mut Ui) {
    let m = &editor.meters;
    let r = Ordering::Relaxed;
    level_bar(
        ui,
        "Input peak",
        m.input_peak_db.load(r),
        PEAK_FLOOR,
        0.0,
        "dBFS",
    );
    level_bar(
        ui,
        "Input TP max",
        m.input_true_peak_dbtp.load(r),
        PEAK_FLOOR,
        0.0,
        "dBTP",
    );
    level_bar(
        ui,
        "Output peak",
        m.output_peak_db.load(r),
        PEAK_FLOOR,
        0.0,
        "dBFS",
    );
    level_bar(
        ui,
        "Output TP max",
        m.true_peak_dbtp.load(r),
        PEAK_FLOOR,
        0.0,
        "dBTP",
    );
    ui.separator();
    level_bar(
        ui,
        "Momentary",
        m.momentary_lufs.load(r),
        LOUDNESS_FLOOR,
        0.0,
        "LUFS",
    );
    level_bar(
        ui,
        "Short-term",
        m.short_term_lufs.load(r),
        LOUDNESS_FLOOR,
        0.0,
        "LUFS",
    );
    level_bar(
        ui,
        "Integrated",
        m.integrated_lufs.load(r),
        LOUDNESS_FLOOR,
        0.0,
        "LUFS",
    );
    ui.horizontal(|ui| {
        ui.label(format!(
            "LRA {}   PLR {}   input I {}",
            format_value(m.loudness_range_lu.load(r), "LU"),
            format_value(m.plr_db.load(r), "dB"),
            format_value(m.input_integrated_lufs.load(r), "LUFS"),
        ));
    });
    let target = editor.params.target.settings().target_lufs();
    let integrated = m.integrated_lufs.load(r);
    let (text, color) = if !integrated.is_finite() {
        ("measuring".to_string(), Color32::GRAY)
    } else {
        let off = integrated - target;
        let color = if off.abs() <= TARGET_TOLERANCE_LU {
            Color32::from_rgb(70, 190, 110)
        } else {
            Color32::from_rgb(230, 180, 50)
        };
        (format!("{off:+.1} LU from target"), color)
    };
    ui.horizontal(|ui| {
        ui.label(format!(
            "Target {target:.1} LUFS ± {TARGET_TOLERANCE_LU:.0} LU:"
        ));
        ui.colored_label(color, text);
    });
}

/// What each destination will do to this master on playback.
pub fn platform_preview(editor: &LatheEditor, ui: &mut Ui) {
    egui::Grid::new("platforms")
        .num_columns(2)
        .spacing([12.0, 2.0])
        .show(ui, |ui| {
            for p in Platform::ALL {
                if p == Platform::Custom {
                    continue;
                }
                let gain = editor.meters.platform_gain_db[p as usize].load(Ordering::Relaxed);
                ui.label(format!("{} ({:.0} LUFS)", p.name(), p.target_lufs()));
                let color = if gain < -0.05 {
                    Color32::from_rgb(230, 180, 50)
                } else {
                    Color32::from_gray(200)
                };
                ui.colored_label(color, format!("{gain:+.1} dB"));
                ui.end_row();
            }
        });
}
