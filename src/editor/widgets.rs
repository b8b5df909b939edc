//! Small widgets shared by the panels: labelled parameter sliders, toggles, an enum picker
//! and meter bars. Every control reads the parameter each frame (host automation moves it)
//! and writes through the `ParamSetter` with begin/set/end gestures.

use egui::{Color32, Pos2, Rect, Sense, Stroke, Ui, Vec2};
use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

/// Width of the label column before a slider, points.
const LABEL_WIDTH: f32 = 110.0;

/// A labelled slider row for any parameter; returns the row's response (for hover text).
pub fn slider<P: Param>(
    ui: &mut Ui,
    label: &str,
    param: &P,
    setter: &ParamSetter,
) -> egui::Response {
    ui.horizontal(|ui| {
        ui.add_sized([LABEL_WIDTH, 18.0], egui::Label::new(label));
        ui.add(ParamSlider::for_param(param, setter).with_width(130.0));
    })
    .response
}

/// A toggle button for a boolean parameter; one click is one whole gesture.
pub fn toggle(ui: &mut Ui, label: &str, param: &BoolParam, setter: &ParamSetter) -> egui::Response {
    let on = param.value();
    let response = ui.add(egui::Button::selectable(on, label));
    if response.clicked() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, !on);
        setter.end_set_parameter(param);
    }
    response
}

/// A drop-down for an enum parameter.
pub fn enum_picker<T: Enum + PartialEq + Copy + 'static>(
    ui: &mut Ui,
    id: &str,
    label: &str,
    param: &EnumParam<T>,
    setter: &ParamSetter,
) {
    ui.horizontal(|ui| {
        ui.add_sized([LABEL_WIDTH, 18.0], egui::Label::new(label));
        let current = param.value();
        egui::ComboBox::from_id_salt(id)
            .selected_text(param.to_string())
            .width(170.0)
            .show_ui(ui, |ui| {
                for (index, name) in T::variants().iter().enumerate() {
                    let variant = T::from_index(index);
                    if ui.selectable_label(variant == current, *name).clicked()
                        && variant != current
                    {
                        setter.begin_set_parameter(param);
                        setter.set_parameter(param, variant);
                        setter.end_set_parameter(param);
                    }
                }
            });
    });
}

/// Colour of a level: green, amber within 3 dB of the top, red over it.
fn level_color(fraction: f32) -> Color32 {
    if fraction > 1.0 {
        Color32::from_rgb(230, 60, 50)
    } else if fraction > 0.9 {
        Color32::from_rgb(230, 180, 50)
    } else {
        Color32::from_rgb(70, 190, 110)
    }
}

/// A horizontal level meter over `bottom_db..top_db` with the value printed beside it.
/// Non-finite values (silence, not yet measured) show as an empty bar and "–".
pub fn level_bar(ui: &mut Ui, label: &str, value: f32, bottom_db: f32, top_db: f32, unit: &str) {
    ui.horizontal(|ui| {
        ui.add_sized([LABEL_WIDTH, 16.0], egui::Label::new(label));
        let (rect, _) = ui.allocate_exact_size(Vec2::new(150.0, 12.0), Sense::hover());
        let painter = ui.painter();
        painter.rect_filled(rect, 2.0, Color32::from_gray(30));
        if value.is_finite() {
            let t = (value - bottom_db) / (top_db - bottom_db);
            let fill = Rect::from_min_max(
                rect.min,
                Pos2::new(
                    rect.left() + rect.width() * t.clamp(0.0, 1.0),
                    rect.bottom(),
                ),
            );
            painter.rect_filled(fill, 2.0, level_color(t));
        }
        ui.label(format_value(value, unit));
    });
}

/// A gain-reduction meter: fills from the right edge leftwards, 0 to `depth_db`.
pub fn reduction_bar(ui: &mut Ui, label: &str, gain_db: f32, depth_db: f32) {
    ui.horizontal(|ui| {
        ui.add_sized([LABEL_WIDTH, 16.0], egui::Label::new(label));
        let (rect, _) = ui.allocate_exact_size(Vec2::new(150.0, 12.0), Sense::hover());
        let painter = ui.painter();
        painter.rect_filled(rect, 2.0, Color32::from_gray(30));
        let t = if gain_db.is_finite() {
            (-gain_db / depth_db).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let fill = Rect::from_min_max(
            Pos2::new(rect.right() - rect.width() * t, rect.top()),
            rect.max,
        );
        painter.rect_filled(fill, 2.0, Color32::from_rgb(230, 150, 40));
        ui.label(format_value(gain_db, "dB"));
    });
}

/// A value with one decimal and its unit, or "–" when not finite.
pub fn format_value(value: f32, unit: &str) -> String {
    if value.is_finite() {
        format!("{value:.1} {unit}")
    } else {
        format!("– {unit}")
    }
}

/// A thin frame around a panel with a heading, as wide as its contents.
pub fn panel<R>(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui) -> R) -> R {
    framed(ui, title, false, add)
}

/// A panel that takes the whole width it is given (the easy view's columns).
pub fn wide_panel<R>(ui: &mut Ui, title: &str, add: impl FnOnce(&mut Ui) -> R) -> R {
    framed(ui, title, true, add)
}

fn framed<R>(ui: &mut Ui, title: &str, wide: bool, add: impl FnOnce(&mut Ui) -> R) -> R {
    egui::Frame::group(ui.style())
        .stroke(Stroke::new(1.0, Color32::from_gray(60)))
        .show(ui, |ui| {
            if wide {
                ui.set_min_width(ui.available_width());
            }
            // Vertical inside whatever row the panel sits in.
            ui.vertical(|ui| {
                ui.strong(title);
                add(ui)
            })
            .inner
        })
        .inner
}
