//! The window's layout: a top bar (view switch, A/B, bypass), then either the easy view
//! (target, Learn, ceiling, one control per stage, the meters that matter) or the expert view
//! (every parameter of every stage), and the settings travel row at the bottom.

use std::collections::VecDeque;
use std::sync::atomic::Ordering;

use egui::Ui;
use nice_plug::prelude::*;

use super::dynamics_panel::{
    band_meters, crossover_plot, limiter_meter, limiter_panel, multiband_controls,
    multiband_switches,
};
use super::eq_panel::{eq_controls, eq_plot, sample_rate};
use super::loudness_panel::{loudness_meters, platform_preview, target_controls};
use super::reference_panel::reference_bar;
use super::stereo_panel::{correlation_meter, stereo_controls};
use super::travel_panel::travel_row;
use super::widgets::{enum_picker, panel, slider, toggle, wide_panel};
use super::{LatheEditor, View};

/// Frames of limiter gain-reduction history kept (about 5 s at the 64 Hz repaint poll).
pub const HISTORY_LEN: usize = 320;

/// Height of the easy view's EQ plot, points: with the stage controls under it, the right
/// column matches the left one at the default window size.
const EASY_EQ_HEIGHT: f32 = 240.0;

#[derive(Default)]
pub struct History {
    pub limiter_gr_db: VecDeque<f32>,
}

/// Reads the taps and meters for this frame, then draws the view.
pub fn draw(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    let rate = sample_rate(editor);
    super::reference_panel::update(editor, setter);
    editor.input_spectrum.update(&editor.input_tap, rate);
    if editor.output_spectrum.update(&editor.output_tap, rate) {
        let gr = editor.meters.limiter_gain_db.load(Ordering::Relaxed);
        let history = &mut editor.history.limiter_gr_db;
        history.push_back(gr);
        while history.len() > HISTORY_LEN {
            history.pop_front();
        }
    }

    // The whole window gets the panel colour, however large the host makes it.
    ui.painter()
        .rect_filled(ui.max_rect(), 0.0, ui.visuals().panel_fill);
    egui::Frame::central_panel(ui.style()).show(ui, |ui| {
        top_bar(editor, ui, setter);
        ui.separator();
        // The separator and the travel row under the body: 36 points (measured by
        // editor::scale_tests, which fails if the window's bottom margin is pushed out).
        let travel_height = 36.0;
        let body_height = (ui.available_height() - travel_height).max(100.0);
        ui.allocate_ui(
            egui::vec2(ui.available_width(), body_height),
            |ui| match editor.view {
                // Scrolls only when the window is smaller than the easy view (the minimum
                // size), so the travel row stays on screen at any size and scale.
                View::Easy => {
                    egui::ScrollArea::vertical()
                        .id_salt("easy_view")
                        .auto_shrink([false, false])
                        .show(ui, |ui| easy_view(editor, ui, setter));
                }
                View::Expert => expert_view(editor, ui, setter),
            },
        );
        ui.separator();
        travel_row(editor, ui, setter);
    });
}

fn top_bar(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    // Wrapped: at the minimum width the reference controls go to a second row
    // (editor::scale_tests found the row 1071 points wide in an 880-point window).
    ui.horizontal_wrapped(|ui| {
        ui.heading("Lathe");
        ui.add_space(12.0);
        if ui
            .add(egui::Button::selectable(editor.view == View::Easy, "Easy"))
            .clicked()
        {
            editor.view = View::Easy;
        }
        if ui
            .add(egui::Button::selectable(
                editor.view == View::Expert,
                "Expert",
            ))
            .clicked()
        {
            editor.view = View::Expert;
        }
        ui.add_space(24.0);
        toggle(ui, "A/B (matched)", &editor.params.ab_bypass, setter)
            .on_hover_text("Hear the input at the master's loudness");
        toggle(ui, "Bypass", &editor.params.bypass, setter);
        let latency = editor.meters.latency_samples.load(Ordering::Relaxed);
        ui.label(format!("latency {latency} samples"));
        ui.add_space(16.0);
        reference_bar(editor, ui, setter);
    });
}

fn easy_view(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    ui.columns(2, |cols| {
        let [left, right] = cols else { return };
        wide_panel(left, "Target", |ui| {
            target_controls(editor, ui, setter);
            slider(ui, "Ceiling", &editor.params.limiter.ceiling_dbtp, setter);
        });
        wide_panel(left, "Loudness", |ui| loudness_meters(editor, ui));
        wide_panel(left, "Platform normalisation", |ui| {
            platform_preview(editor, ui)
        });

        wide_panel(right, "Tonal EQ", |ui| {
            eq_plot(editor, ui, setter, EASY_EQ_HEIGHT);
        });
        wide_panel(right, "Stages", |ui| {
            // One amount per stage, in signal order; every other control is in the expert
            // view. The multiband stage is off by default, so its row keeps the switch: an
            // amount for a stage that is off would do nothing.
            let p = &editor.params;
            slider(ui, "EQ amount", &p.eq.amount_pct, setter)
                .on_hover_text("Scales every EQ gain and the tilt, in dB: 0 % flat, 100 % as set");
            ui.horizontal(|ui| {
                slider(ui, "Multiband amount", &p.multiband.amount_pct, setter)
                    .on_hover_text("Scales every band's gain reduction, in dB: 0 % no compression");
                toggle(ui, "On", &p.multiband.enabled, setter)
                    .on_hover_text("Multiband compression on/off");
            });
            slider(ui, "Stereo width", &p.stereo.width_pct, setter);
            enum_picker(
                ui,
                "easy_limiter_style",
                "Limiter style",
                &p.limiter.style,
                setter,
            );
            slider(ui, "Limiter drive", &p.limiter.drive_db, setter);
            band_meters(editor, ui, setter);
            correlation_meter(editor, ui);
        });
        // Under the stages it ends, so both columns fit the default window unscrolled.
        wide_panel(right, "Limiter", |ui| limiter_meter(editor, ui));
    });
}

fn expert_view(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    // Both ways: below about 1050 points the EQ's three control panels do not fit side by
    // side, and every control must stay reachable at the minimum size.
    egui::ScrollArea::both()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            panel(ui, "Tonal EQ", |ui| {
                eq_plot(editor, ui, setter, 220.0);
                slider(ui, "Amount", &editor.params.eq.amount_pct, setter);
                eq_controls(editor, ui, setter);
            });
            panel(ui, "Multiband", |ui| {
                crossover_plot(editor, ui, setter, 110.0);
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| band_meters(editor, ui, setter));
                    ui.add_space(16.0);
                    ui.vertical(|ui| multiband_switches(editor, ui, setter));
                });
                multiband_controls(editor, ui, setter);
            });
            // Wrapped: at the minimum width the three panels do not fit side by side (1050
            // points), and a panel past the window's edge could not be reached.
            ui.horizontal_wrapped(|ui| {
                panel(ui, "Limiter · output", |ui| {
                    limiter_panel(editor, ui, setter);
                    limiter_meter(editor, ui);
                });
                panel(ui, "Stereo", |ui| {
                    stereo_controls(editor, ui, setter);
                    correlation_meter(editor, ui);
                });
                panel(ui, "Platform normalisation", |ui| {
                    platform_preview(editor, ui)
                });
            });
            panel(ui, "Target · loudness", |ui| {
                ui.horizontal_top(|ui| {
                    ui.vertical(|ui| target_controls(editor, ui, setter));
                    ui.add_space(16.0);
                    ui.vertical(|ui| loudness_meters(editor, ui));
                });
            });
        });
}
