//! Multiband and limiter panels: crossover handles on the spectrum, per-band gain-reduction
//! meters with solo and bypass, every band control, and the limiter with its gain-reduction
//! history.

use std::sync::atomic::Ordering;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::*;

use super::eq_panel::{INPUT_COLOR, OUTPUT_COLOR};
use super::spectrum::{self, hz_to_x, x_to_hz};
use nice_plug_egui::widgets::ParamSlider;

use super::widgets::{enum_picker, reduction_bar, slider, toggle};
use super::LatheEditor;
use crate::params::BandParams;

/// Depth the gain-reduction meters show, dB.
pub const GR_DEPTH_DB: f32 = 12.0;

/// The spectrum with the three crossovers as draggable lines.
pub fn crossover_plot(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter, height: f32) {
    let width = ui.available_width();
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, height), Sense::hover());
    let painter = ui.painter_at(rect);
    spectrum::draw_grid(&painter, rect);
    spectrum::draw_spectrum(&painter, rect, &editor.input_spectrum, INPUT_COLOR);
    spectrum::draw_spectrum(&painter, rect, &editor.output_spectrum, OUTPUT_COLOR);
    let mb = &editor.params.multiband;
    let crossovers = [
        &mb.crossover_low_hz,
        &mb.crossover_mid_hz,
        &mb.crossover_high_hz,
    ];
    // Band gain reduction drawn as a shade hanging from the top of each band's span.
    let mut edges = vec![rect.left()];
    edges.extend(crossovers.iter().map(|c| hz_to_x(rect, c.value())));
    edges.push(rect.right());
    for (band, span) in edges.windows(2).enumerate() {
        let gr = editor.meters.multiband_gain_db[band].load(Ordering::Relaxed);
        let t = if gr.is_finite() {
            (-gr / GR_DEPTH_DB).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let shade = Rect::from_min_max(
            Pos2::new(span[0], rect.top()),
            Pos2::new(span[1], rect.top() + t * rect.height()),
        );
        painter.rect_filled(
            shade,
            0.0,
            Color32::from_rgba_unmultiplied(230, 150, 40, 60),
        );
    }
    for (index, param) in crossovers.into_iter().enumerate() {
        let x = hz_to_x(rect, param.value());
        let id = ui.scope_id().with(("crossover", index));
        let response = ui.interact(
            Rect::from_center_size(
                Pos2::new(x, rect.center().y),
                Vec2::new(12.0, rect.height()),
            ),
            id,
            Sense::drag(),
        );
        if response.drag_started() {
            setter.begin_set_parameter(param);
        }
        if response.dragged() {
            if let Some(pointer) = response.interact_pointer_pos() {
                setter.set_parameter(param, x_to_hz(rect, pointer.x));
            }
        }
        if response.drag_stopped() {
            setter.end_set_parameter(param);
        }
        let hot = response.hovered() || response.dragged();
        painter.line_segment(
            [Pos2::new(x, rect.top()), Pos2::new(x, rect.bottom())],
            Stroke::new(
                if hot { 3.0 } else { 2.0 },
                Color32::from_rgb(200, 120, 230),
            ),
        );
        if hot {
            response.on_hover_text(format!("Crossover {}: {}", index + 1, param));
        }
    }
}

/// Per-band meters with solo and bypass (compact, for both views).
pub fn band_meters(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let mb = &editor.params.multiband;
    for (i, band) in mb.bands.iter().enumerate() {
        ui.horizontal(|ui| {
            let gr = editor.meters.multiband_gain_db[i].load(Ordering::Relaxed);
            reduction_bar(ui, &format!("Band {} GR", i + 1), gr, GR_DEPTH_DB);
            toggle(ui, "S", &band.solo, setter).on_hover_text("Solo this band");
            toggle(ui, "B", &band.bypass, setter).on_hover_text("Bypass this band");
        });
    }
}

/// The stage switches and the crossovers as sliders.
pub fn multiband_switches(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let mb = &editor.params.multiband;
    ui.horizontal(|ui| {
        toggle(ui, "Multiband on", &mb.enabled, setter);
        toggle(ui, "Mid/Side", &mb.mid_side, setter);
        toggle(ui, "RMS detection", &mb.rms, setter);
    });
    slider(ui, "Amount", &mb.amount_pct, setter);
    slider(ui, "Crossover 1", &mb.crossover_low_hz, setter);
    slider(ui, "Crossover 2", &mb.crossover_mid_hz, setter);
    slider(ui, "Crossover 3", &mb.crossover_high_hz, setter);
}

/// Picks one of a band's continuous controls.
type BandField = fn(&BandParams) -> &FloatParam;

/// Every band control, for the expert view.
pub fn multiband_controls(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let mb = &editor.params.multiband;
    // One row per control, one column per band: four bands fit side by side.
    egui::Grid::new("band_controls")
        .num_columns(5)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            ui.label("");
            for i in 1..=4 {
                ui.strong(format!("Band {i}"));
            }
            ui.end_row();
            let rows: [(&str, BandField); 6] = [
                ("Threshold", |b| &b.threshold_db),
                ("Ratio", |b| &b.ratio),
                ("Knee", |b| &b.knee_db),
                ("Attack", |b| &b.attack_ms),
                ("Release", |b| &b.release_ms),
                ("Makeup", |b| &b.makeup_db),
            ];
            for (name, field) in rows {
                ui.label(name);
                for band in &mb.bands {
                    ui.add(ParamSlider::for_param(field(band), setter).with_width(100.0));
                }
                ui.end_row();
            }
        });
}

/// The limiter's controls (all of them: there are few) and its gain-reduction history.
pub fn limiter_panel(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let lim = &editor.params.limiter;
    enum_picker(ui, "limiter_style", "Style", &lim.style, setter);
    slider(ui, "Drive", &lim.drive_db, setter);
    slider(ui, "Ceiling", &lim.ceiling_dbtp, setter);
    slider(ui, "Look-ahead", &lim.lookahead_ms, setter);
    slider(ui, "Release", &lim.release_ms, setter);
    toggle(ui, "Auto release", &lim.auto_release, setter);
    slider(ui, "Output gain", &editor.params.output.gain_db, setter);
    slider(ui, "Input trim", &editor.params.input.trim_db, setter);
}

/// The limiter's gain reduction now and over the last seconds.
pub fn limiter_meter(editor: &LatheEditor, ui: &mut Ui) {
    let gr = editor.meters.limiter_gain_db.load(Ordering::Relaxed);
    reduction_bar(ui, "Limiter GR", gr, GR_DEPTH_DB);
    let width = ui.available_width().min(420.0);
    let (rect, _) = ui.allocate_exact_size(Vec2::new(width, 50.0), Sense::hover());
    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 2.0, Color32::from_gray(22));
    let history = &editor.history.limiter_gr_db;
    if history.len() > 1 {
        let step = rect.width() / (super::layout::HISTORY_LEN - 1) as f32;
        let start = rect.right() - step * (history.len() - 1) as f32;
        let points: Vec<Pos2> = history
            .iter()
            .enumerate()
            .map(|(i, &g)| {
                let t = if g.is_finite() {
                    (-g / GR_DEPTH_DB).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                Pos2::new(start + step * i as f32, rect.top() + t * rect.height())
            })
            .collect();
        painter.add(egui::Shape::line(
            points,
            Stroke::new(1.5, Color32::from_rgb(230, 150, 40)),
        ));
    }
}
