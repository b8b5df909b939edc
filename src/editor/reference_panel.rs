//! The reference controls and their drawing: a path field with Load and Clear and the match
//! amount in the top bar (so both views have them), and on the EQ plot the reference's
//! spectrum against the live input and the match curve the chain applies.

use egui::{Color32, Pos2, Rect, Stroke, Ui};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use super::eq_panel::{sample_rate, CURVE_DB};
use super::reference::{apply_gains, LoadState, MIN_CAPTURE_S};
use super::spectrum::{db_to_y, hz_to_x, point_hz, x_to_hz, SPECTRUM_FLOOR_DB, SPECTRUM_TOP_DB};
use super::LatheEditor;
use crate::dsp::eq::match_curve::{MatchEq, MATCH_SECTIONS, SIDE_BANDS};

/// Colours: the reference's spectrum, the applied match curve.
pub const REFERENCE_COLOR: Color32 = Color32::from_rgb(210, 120, 220);
const MATCH_COLOR: Color32 = Color32::from_rgb(240, 130, 90);
const ERROR_COLOR: Color32 = Color32::from_rgb(230, 90, 70);

/// Once per frame: copy the input taps, and apply a finished load through the host.
pub fn update(editor: &mut LatheEditor, setter: &ParamSetter) {
    let rate = sample_rate(editor).round() as u32;
    editor
        .capture
        .update(&editor.input_tap, &editor.input_side_tap, rate);
    if let Some(m) = editor.reference.poll() {
        apply_gains(
            &editor.params.matching,
            &m.mid_gains_db,
            &m.side_gains_db,
            setter,
        );
    }
}

/// Path field, Load, Clear and the amount, in one row.
pub fn reference_bar(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    ui.label("Reference");
    ui.add(
        egui::TextEdit::singleline(&mut editor.reference.path)
            .hint_text("reference file (WAV, FLAC, MP3, AIFF)")
            .desired_width(170.0),
    );
    let heard = editor.capture.seconds();
    let load = ui
        .add_enabled(!editor.reference.busy(), egui::Button::new("Load"))
        .on_hover_text(format!(
            "Measure the file and fit the match curve against the {heard:.0} s of input heard \
             so far (at least {MIN_CAPTURE_S:.0} s)"
        ));
    if load.clicked() {
        let smoothing_oct = editor.params.matching.smoothing_oct.value();
        editor.reference.start(&editor.capture, smoothing_oct);
    }
    if ui
        .button("Clear")
        .on_hover_text("Flatten the match curve")
        .clicked()
    {
        apply_gains(
            &editor.params.matching,
            &[0.0; MATCH_SECTIONS],
            &[0.0; SIDE_BANDS],
            setter,
        );
        editor.reference.state = LoadState::Idle;
    }
    ui.label("Match");
    ui.add(ParamSlider::for_param(&editor.params.matching.amount_pct, setter).with_width(90.0));
    // The smoothing (`mt_sm`) has no control in this row: one more slider wraps the top bar
    // onto a second line at the editor's 1120 px width, which pushes every panel down. Hosts
    // show it in their parameter list, and Load reads it.
}

/// Draws the reference's spectrum, the match curve and the loader's status onto the EQ plot.
pub fn draw_on_plot(editor: &LatheEditor, painter: &egui::Painter, rect: Rect) {
    if let LoadState::Loaded(m) = &editor.reference.state {
        // Placed at the input's level: shifted by the median distance between the live input
        // spectrum and the input's long-term spectrum, so where the reference lies above the
        // live input the match raises, whatever the input's loudness.
        let long_term = |f: f32| {
            m.input_mid_db
                .iter()
                .min_by(|a, b| {
                    (a.0 / f as f64)
                        .ln()
                        .abs()
                        .total_cmp(&(b.0 / f as f64).ln().abs())
                })
                .map(|p| p.1)
                .filter(|v| v.is_finite())
        };
        let mut offsets: Vec<f64> = editor
            .input_spectrum
            .display_db
            .iter()
            .enumerate()
            .filter(|(i, _)| (100.0..=10_000.0).contains(&point_hz(*i)))
            .filter_map(|(i, &live)| long_term(point_hz(i)).map(|lt| f64::from(live) - lt))
            .collect();
        offsets.sort_by(f64::total_cmp);
        let offset = offsets.get(offsets.len() / 2).copied().unwrap_or(-30.0);
        let points: Vec<Pos2> = m
            .reference_mid_db
            .iter()
            .filter(|p| p.1.is_finite() && (20.0..=20_000.0).contains(&p.0))
            .map(|&(f, db)| {
                Pos2::new(
                    hz_to_x(rect, f as f32),
                    db_to_y(
                        rect,
                        (db + offset) as f32,
                        SPECTRUM_FLOOR_DB,
                        SPECTRUM_TOP_DB,
                    ),
                )
            })
            .collect();
        painter.add(egui::Shape::line(points, Stroke::new(1.5, REFERENCE_COLOR)));
    }

    let matching = &editor.params.matching;
    if matching.has_curve() {
        let settings = matching.settings();
        let rate = sample_rate(editor);
        let curve: Vec<Pos2> = (0..=200)
            .map(|i| {
                let x = rect.left() + rect.width() * i as f32 / 200.0;
                let db = MatchEq::magnitude_db(&settings, rate, x_to_hz(rect, x));
                Pos2::new(x, db_to_y(rect, db, -CURVE_DB, CURVE_DB))
            })
            .collect();
        painter.add(egui::Shape::line(curve, Stroke::new(1.5, MATCH_COLOR)));
    }

    let (text, color) = match &editor.reference.state {
        LoadState::Idle if matching.has_curve() => ("match curve".to_string(), MATCH_COLOR),
        LoadState::Idle => return,
        LoadState::Busy => ("analysing the reference…".to_string(), REFERENCE_COLOR),
        LoadState::Loaded(m) => (format!("reference: {}", m.name), REFERENCE_COLOR),
        LoadState::Failed(e) => (e.clone(), ERROR_COLOR),
    };
    painter.text(
        Pos2::new(rect.left() + 6.0, rect.top() + 4.0),
        egui::Align2::LEFT_TOP,
        text,
        egui::FontId::proportional(11.0),
        color,
    );
}
