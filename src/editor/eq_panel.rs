//! Tonal EQ panel: the combined curve from the DSP's own `TonalEq::magnitude_db` over the live
//! input and output spectra, with draggable band handles (drag: frequency and gain; scroll
//! over a handle: Q). A drag is one begin/set…/end gesture per parameter.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::*;

use super::spectrum::{self, db_to_y, hz_to_x, x_to_hz};
use super::widgets::{enum_picker, panel, slider};
use super::LatheEditor;
use crate::dsp::eq::TonalEq;

/// Curve range, dB (the gain controls reach ±12 dB, tilt adds up to ±6 dB at the ends).
pub const CURVE_DB: f32 = 18.0;
/// Colours: input spectrum, output spectrum, EQ curve.
pub const INPUT_COLOR: Color32 = Color32::from_rgb(90, 120, 170);
pub const OUTPUT_COLOR: Color32 = Color32::from_rgb(120, 200, 160);
const CURVE_COLOR: Color32 = Color32::from_rgb(250, 200, 80);

/// One draggable point: a frequency, and a gain and Q where the band has them.
struct Handle<'a> {
    name: &'static str,
    freq: &'a FloatParam,
    gain: Option<&'a FloatParam>,
    q: Option<&'a FloatParam>,
}

/// The plot with its handles, `height` points tall and as wide as the panel.
pub fn eq_plot(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter, height: f32) {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    spectrum::draw_grid(&painter, rect);
    spectrum::draw_spectrum(&painter, rect, &editor.input_spectrum, INPUT_COLOR);
    spectrum::draw_spectrum(&painter, rect, &editor.output_spectrum, OUTPUT_COLOR);

    let zero = db_to_y(rect, 0.0, -CURVE_DB, CURVE_DB);
    painter.line_segment(
        [Pos2::new(rect.left(), zero), Pos2::new(rect.right(), zero)],
        Stroke::new(1.0, Color32::from_gray(70)),
    );
    let settings = editor.params.eq.settings();
    let rate = sample_rate(editor);
    let curve: Vec<Pos2> = (0..=200)
        .map(|i| {
            let x = rect.left() + rect.width() * i as f32 / 200.0;
            let db = TonalEq::magnitude_db(&settings, rate, x_to_hz(rect, x));
            Pos2::new(x, db_to_y(rect, db, -CURVE_DB, CURVE_DB))
        })
        .collect();
    painter.add(egui::Shape::line(curve, Stroke::new(2.0, CURVE_COLOR)));
    super::reference_panel::draw_on_plot(editor, &painter, rect);

    let eq = &editor.params.eq;
    let mut handles = vec![
        Handle {
            name: "HP",
            freq: &eq.hp_freq_hz,
            gain: None,
            q: None,
        },
        Handle {
            name: "LS",
            freq: &eq.low_shelf_freq_hz,
            gain: Some(&eq.low_shelf_gain_db),
            q: Some(&eq.low_shelf_q),
        },
    ];
    for (bell, name) in eq.bells.iter().zip(["1", "2", "3"]) {
        handles.push(Handle {
            name,
            freq: &bell.freq_hz,
            gain: Some(&bell.gain_db),
            q: Some(&bell.q),
        });
    }
    handles.push(Handle {
        name: "HS",
        freq: &eq.high_shelf_freq_hz,
        gain: Some(&eq.high_shelf_gain_db),
        q: Some(&eq.high_shelf_q),
    });

    for (index, handle) in handles.iter().enumerate() {
        let gain = handle.gain.map_or(0.0, |g| g.value());
        let center = Pos2::new(
            hz_to_x(rect, handle.freq.value()),
            db_to_y(rect, gain, -CURVE_DB, CURVE_DB),
        );
        let id = ui.scope_id().with(("eq_handle", index));
        let response = ui.interact(
            Rect::from_center_size(center, Vec2::splat(18.0)),
            id,
            Sense::drag(),
        );
        drag_handle(&response, rect, handle, setter);
        if response.hovered() {
            if let Some(q) = handle.q {
                let scroll = ui.input(|i| i.smooth_scroll_delta.y);
                if scroll != 0.0 {
                    // Up widens nothing: up narrows (higher Q), a doubling per 200 points.
                    let value = q.value() * 2f32.powf(scroll / 200.0);
                    setter.begin_set_parameter(q);
                    setter.set_parameter(q, value);
                    setter.end_set_parameter(q);
                }
            }
            response.clone().on_hover_text(format!(
                "{}: {}{}",
                handle.name,
                handle.freq,
                handle
                    .q
                    .map(|q| format!(", Q {q} (scroll)"))
                    .unwrap_or_default()
            ));
        }
        let active = response.dragged() || response.hovered();
        painter.circle(
            center,
            if active { 8.0 } else { 6.0 },
            Color32::from_rgba_unmultiplied(250, 200, 80, if active { 220 } else { 140 }),
            Stroke::new(1.0, Color32::BLACK),
        );
        painter.text(
            center,
            egui::Align2::CENTER_CENTER,
            handle.name,
            egui::FontId::proportional(9.0),
            Color32::BLACK,
        );
    }
}

/// Begin on press, set while dragging, end on release.
fn drag_handle(response: &egui::Response, rect: Rect, handle: &Handle, setter: &ParamSetter) {
    if response.drag_started() {
        setter.begin_set_parameter(handle.freq);
        if let Some(gain) = handle.gain {
            setter.begin_set_parameter(gain);
        }
    }
    if response.dragged() {
        if let Some(pointer) = response.interact_pointer_pos() {
            setter.set_parameter(handle.freq, x_to_hz(rect, pointer.x));
            if let Some(gain) = handle.gain {
                let t = (rect.bottom() - pointer.y) / rect.height();
                let db = -CURVE_DB + t.clamp(0.0, 1.0) * 2.0 * CURVE_DB;
                setter.set_parameter(gain, db);
            }
        }
    }
    if response.drag_stopped() {
        setter.end_set_parameter(handle.freq);
        if let Some(gain) = handle.gain {
            setter.end_set_parameter(gain);
        }
    }
}

/// The chain's sample rate, or 48 kHz before the plugin is activated.
pub fn sample_rate(editor: &LatheEditor) -> f32 {
    let rate = editor
        .meters
        .sample_rate_hz
        .load(std::sync::atomic::Ordering::Relaxed);
    if rate > 0.0 {
        rate
    } else {
        48_000.0
    }
}

/// Every EQ parameter, for the expert view.
pub fn eq_controls(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let eq = &editor.params.eq;
    ui.horizontal_top(|ui| {
        panel(ui, "High-pass · tilt", |ui| {
            enum_picker(ui, "eq_hp", "High-pass", &eq.hp_mode, setter);
            slider(ui, "HP freq", &eq.hp_freq_hz, setter);
            slider(ui, "Tilt", &eq.tilt_db, setter);
        });
        panel(ui, "Shelves", |ui| {
            slider(ui, "Low freq", &eq.low_shelf_freq_hz, setter);
            slider(ui, "Low gain", &eq.low_shelf_gain_db, setter);
            slider(ui, "Low Q", &eq.low_shelf_q, setter);
            slider(ui, "High freq", &eq.high_shelf_freq_hz, setter);
            slider(ui, "High gain", &eq.high_shelf_gain_db, setter);
            slider(ui, "High Q", &eq.high_shelf_q, setter);
        });
        panel(ui, "Bells", |ui| {
            for (i, bell) in eq.bells.iter().enumerate() {
                slider(ui, &format!("Bell {} freq", i + 1), &bell.freq_hz, setter);
                slider(ui, &format!("Bell {} gain", i + 1), &bell.gain_db, setter);
                slider(ui, &format!("Bell {} Q", i + 1), &bell.q, setter);
            }
        });
    });
}
