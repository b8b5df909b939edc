//! The editor at the host's scale factors (issue 6, item 1: "sizes that scale with the host's
//! DPI"), headless: the real layout code runs in an `egui::Context` fed the way
//! nice-plug-egui's window (egui-baseview) feeds it.
//!
//! How the scale reaches egui: the host's scale factor (CLAP `gui.set_scale`, VST3
//! `IPlugViewContentScaleSupport`, or the system's on macOS) becomes baseview's window scale;
//! the window's physical size is the editor's logical size times it. egui-baseview then gives
//! egui a screen rectangle of physical size / (scale × zoom) points and
//! `native_pixels_per_point = scale`, so egui lays out in points and tessellates at
//! `pixels_per_point = scale × zoom` (Lathe's zoom is 1). The layout in points is therefore
//! the same at any scale and everything, text included (rasterised at the physical
//! resolution), grows with it. These tests check exactly that on Lathe's layout: at 1.0, 1.5
//! and 2.0, at the default and at the minimum window size, both views fit the window, no
//! label is cut by its clip rectangle, text is as large in points at every scale (so twice
//! the pixels at 2.0), and egui renders at the host's scale.

use std::sync::Arc;

use egui::epaint::ClippedShape;
use egui::{Pos2, RawInput, Rect, Shape, Vec2, ViewportId};
use nice_plug::prelude::*;

use super::{
    layout, reference, travel_panel, Analyser, AudioTap, LatheEditor, View, DEFAULT_SIZE, MIN_SIZE,
};
use crate::params::LatheParams;
use crate::plugin::SharedMeters;

/// A host that accepts every gesture and does nothing with it.
struct NoHost;

impl GuiContextInner for NoHost {
    fn plugin_api(&self) -> PluginApi {
        PluginApi::Clap
    }
    unsafe fn raw_begin_set_parameter(&self, _: ParamPtr) {}
    unsafe fn raw_set_parameter_normalized(&self, _: ParamPtr, _: f32) {}
    unsafe fn raw_end_set_parameter(&self, _: ParamPtr) {}
    fn get_state(&self) -> PluginState {
        PluginState {
            version: String::new(),
            params: Default::default(),
            fields: Default::default(),
        }
    }
    fn set_state(&self, _: PluginState) {}
    fn request_restart(&self) {}
}

fn editor(view: View) -> LatheEditor {
    LatheEditor {
        params: Arc::new(LatheParams::default()),
        meters: Arc::new(SharedMeters::default()),
        input_tap: Arc::new(AudioTap::new()),
        output_tap: Arc::new(AudioTap::new()),
        input_side_tap: Arc::new(AudioTap::new()),
        gui: None,
        view,
        input_spectrum: Analyser::new(),
        output_spectrum: Analyser::new(),
        history: layout::History::default(),
        travel: travel_panel::TravelState::default(),
        capture: reference::InputCapture::default(),
        reference: reference::Loader::default(),
    }
}

/// What one laid-out frame shows.
struct Frame {
    pixels_per_point: f32,
    /// Everything the layout allocated, in points.
    used: Rect,
    /// Every text shape: its text, where it is drawn and the clip rectangle it is drawn in.
    texts: Vec<(String, Rect, Rect)>,
}

/// Lays the editor out in a window of `size_pt` logical points at the host scale `scale`, as
/// egui-baseview sets egui up, and returns the last of a few frames (egui settles some sizes,
/// grids and columns, over the first two).
fn lay_out(view: View, size_pt: Vec2, scale: f32) -> Frame {
    let ctx = egui::Context::default();
    ctx.set_visuals(egui::Visuals::dark());
    let mut ed = editor(view);
    let host = NoHost;
    let setter = ParamSetter::new(&host);
    let window = Rect::from_min_size(Pos2::ZERO, size_pt);
    let mut last = None;
    for _ in 0..3 {
        let mut input = RawInput {
            screen_rect: Some(window),
            ..Default::default()
        };
        input
            .viewports
            .entry(ViewportId::ROOT)
            .or_default()
            .native_pixels_per_point = Some(scale);
        let mut used = Rect::NOTHING;
        let out = ctx.run_ui(input, |ui| {
            layout::draw(&mut ed, ui, &setter);
            used = ui.min_rect();
        });
        last = Some((out, used));
    }
    let (out, used) = last.expect("three frames ran");
    let mut texts = Vec::new();
    for ClippedShape {
        clip_rect, shape, ..
    } in &out.shapes
    {
        collect_texts(shape, *clip_rect, &mut texts);
    }
    Frame {
        pixels_per_point: out.pixels_per_point,
        used,
        texts,
    }
}

fn collect_texts(shape: &Shape, clip: Rect, out: &mut Vec<(String, Rect, Rect)>) {
    match shape {
        Shape::Text(t) if !t.galley.text().trim().is_empty() => {
            out.push((t.galley.text().to_string(), t.visual_bounding_rect(), clip));
        }
        Shape::Vec(shapes) => {
            for s in shapes {
                collect_texts(s, clip, out);
            }
        }
        _ => {}
    }
}

const SCALES: [f32; 3] = [1.0, 1.5, 2.0];

fn sizes() -> [(&'static str, Vec2); 2] {
    [
        (
            "default",
            Vec2::new(DEFAULT_SIZE.0 as f32, DEFAULT_SIZE.1 as f32),
        ),
        ("minimum", Vec2::new(MIN_SIZE.0, MIN_SIZE.1)),
    ]
}

/// Half a point of slack for egui's rounding to physical pixels.
const SLACK_PT: f32 = 0.5;
/// Labels this close to their clip rectangle's edge may be culled at one scale and drawn at
/// another: more than the rows' drift between scales (3.4 points, measured).
const EDGE_PT: f32 = 8.0;

#[test]
fn both_views_fit_the_window_at_every_scale_and_size() {
    for scale in SCALES {
        for (name, size) in sizes() {
            let window = Rect::from_min_size(Pos2::ZERO, size);
            for view in [View::Easy, View::Expert] {
                let f = lay_out(view, size, scale);
                let what = format!("{view:?} view, {name} size, scale {scale}");
                assert_eq!(
                    f.pixels_per_point, scale,
                    "{what}: egui renders at the scale"
                );
                eprintln!("{what}: the layout uses {:?}", f.used);
                // Nothing is laid out past the window's edges (the expert view scrolls inside
                // its body, so it must fit too).
                assert!(
                    window.expand(SLACK_PT).contains_rect(f.used),
                    "{what}: the layout uses {:?}, the window is {window:?}",
                    f.used
                );
                assert!(!f.texts.is_empty(), "{what}: nothing drawn");
                // Nothing runs off the window's sides or is cut sideways by the panel it
                // sits in; at the default size the easy view fits without scrolling, so there
                // nothing is cut at the top or bottom either. The bodies scroll when the
                // window is smaller than their contents: the easy view vertically, the expert
                // view both ways (at the minimum width its EQ panels are wider than the
                // window), so there labels may be scrolled out and are not checked.
                let whole = view == View::Easy && name == "default";
                let scrolled_sideways = view == View::Expert && name == "minimum";
                for (text, rect, clip) in f.texts.iter().filter(|_| !scrolled_sideways) {
                    let within = |outer: &Rect| {
                        let outer = outer.expand(SLACK_PT);
                        if whole {
                            outer.contains_rect(*rect)
                        } else {
                            rect.left() >= outer.left() && rect.right() <= outer.right()
                        }
                    };
                    assert!(
                        within(&window),
                        "{what}: '{text}' at {rect:?} leaves the window"
                    );
                    assert!(
                        within(clip),
                        "{what}: '{text}' at {rect:?} is cut by {clip:?}"
                    );
                }
                // The travel row (Export, Import) is on screen, at the bottom.
                for button in ["Export", "Import"] {
                    let (_, rect, _) = f
                        .texts
                        .iter()
                        .find(|(t, _, _)| t == button)
                        .unwrap_or_else(|| panic!("{what}: no {button} button"));
                    assert!(
                        rect.bottom() <= size.y && rect.top() > size.y - 40.0,
                        "{what}: {button} at {rect:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_layout_in_points_is_the_same_at_every_scale_so_pixels_grow_with_it() {
    for view in [View::Easy, View::Expert] {
        let size = sizes()[0].1;
        // A row at the very edge of a scrolled body is drawn at one scale and culled at
        // another (the rows drift by a few points, see below), so only the labels well inside
        // their clip rectangles are compared.
        let inside = |f: &Frame| -> Vec<(String, Rect)> {
            f.texts
                .iter()
                .filter(|(_, rect, clip)| clip.shrink(EDGE_PT).contains_rect(*rect))
                .map(|(t, r, _)| (t.clone(), *r))
                .collect()
        };
        let base_frame = lay_out(view, size, 1.0);
        let base = inside(&base_frame);
        for scale in [1.5f32, 2.0] {
            let f = lay_out(view, size, scale);
            let texts = inside(&f);
            assert_eq!(texts.len(), base.len(), "{view:?} at {scale}");
            let mut worst = 0.0f32;
            for ((text, rect), (text1, rect1)) in texts.iter().zip(&base) {
                assert_eq!(text, text1, "{view:?} at {scale}: the same labels in order");
                let moved = (rect.min - rect1.min)
                    .length()
                    .max((rect.max - rect1.max).length());
                worst = worst.max(moved);
            }
            // egui rounds every row to whole physical pixels, so at 1.5 the rows drift by a
            // fraction of a point each: about 2 points down the easy view and 3.4 down the
            // expert view at 1.5, about 1 at 2.0 (measured). A third of one 18-point row
            // bounds it: no label changes place.
            eprintln!("{view:?} at {scale}: labels within {worst:.2} points of 1.0's");
            assert!(
                worst <= 6.0,
                "{view:?} at {scale}: labels moved {worst} points"
            );
            // Text keeps its size in points, so in physical pixels it is `scale` times as
            // large: the smallest label (the EQ handles' names) in pixels, at 1.0 and here.
            let smallest_px = |f: &Frame| {
                f.pixels_per_point
                    * f.texts
                        .iter()
                        .map(|(_, r, _)| r.height())
                        .fold(f32::INFINITY, f32::min)
            };
            let (at_one, here) = (smallest_px(&base_frame), smallest_px(&f));
            eprintln!("{view:?}: smallest text {at_one:.2} px at 1.0, {here:.2} px at {scale}");
            assert!(
                here >= scale * at_one - 1.0,
                "{view:?} at {scale}: smallest text {here} px, {at_one} px at 1.0"
            );
        }
    }
}
