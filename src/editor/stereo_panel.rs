//! Stereo panel: the output's correlation, width and the mono-below control.

use std::sync::atomic::Ordering;

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::*;

use super::widgets::{slider, toggle};
use super::LatheEditor;

/// Correlation from -1 (out of phase) to +1 (mono), with a needle and the number.
pub fn correlation_meter(editor: &LatheEditor, ui: &mut Ui) {
    let value = editor.meters.correlation.load(Ordering::Relaxed);
    ui.horizontal(|ui| {
        ui.add_sized([110.0, 16.0], egui::Label::new("Correlation"));
        let (rect, _) = ui.allocate_exact_size(Vec2::new(150.0, 12.0), Sense::hover());
        let painter = ui.painter();
        // Left of centre is red (phase trouble), right is green.
        let mid = rect.center().x;
        painter.rect_filled(
            Rect::from_min_max(rect.min, Pos2::new(mid, rect.bottom())),
            2.0,
            Color32::from_rgb(70, 30, 30),
        );
        painter.rect_filled(
            Rect::from_min_max(Pos2::new(mid, rect.top()), rect.max),
            2.0,
            Color32::from_rgb(30, 60, 40),
        );
        if value.is_finite() {
            let x = mid + value.clamp(-1.0, 1.0) * rect.width() / 2.0;
            painter.line_segment(
                [
                    Pos2::new(x, rect.top() - 2.0),
                    Pos2::new(x, rect.bottom() + 2.0),
                ],
                Stroke::new(3.0, Color32::WHITE),
            );
            ui.label(format!("{value:+.2}"));
        } else {
            ui.label("–");
        }
    });
}

/// Width and mono-below.
pub fn stereo_controls(editor: &LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let st = &editor.params.stereo;
    slider(ui, "Width", &st.width_pct, setter);
    ui.horizontal(|ui| {
        toggle(ui, "Mono below", &st.mono_below, setter);
        ui.add(
            nice_plug_egui::widgets::ParamSlider::for_param(&st.mono_below_hz, setter)
                .with_width(110.0),
        );
    });
}
