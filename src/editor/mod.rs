//! The plugin's editor (egui through nice-plug-egui).
//!
//! What the audio thread shares with it: the parameters (read every frame, so host automation
//! moves the controls), the meters in [`SharedMeters`](crate::plugin::SharedMeters) (atomics),
//! two [`AudioTap`] rings of recent input and output samples for the spectrum, and a repaint
//! flag. The audio thread only stores atomics, and only while the window is open; everything
//! else (FFT, curves, history) happens here, on the GUI thread, while the window paints.
//!
//! Every control goes through nice-plug's `ParamSetter` with begin/set/end gestures, so the
//! host records a drag as automation.

use std::sync::Arc;

use nice_plug::context::gui::GuiContext;
use nice_plug::editor::dpi::LogicalSize;
use nice_plug::prelude::*;
pub use nice_plug_egui::RepaintNotifier;
use nice_plug_egui::{create_egui_editor, EguiEditor, EguiEditorState, EguiNiceSettings};

use crate::params::LatheParams;
use crate::plugin::SharedMeters;

mod dynamics_panel;
mod eq_panel;
mod layout;
mod loudness_panel;
pub mod reference;
mod reference_panel;
#[cfg(test)]
mod scale_tests;
mod spectrum;
mod stereo_panel;
mod tap;
mod travel_panel;
mod widgets;

pub use spectrum::Analyser;
pub use tap::{AudioTap, TAP_CAPACITY};

/// The window size the editor opens at, in logical points (scaled by the host's DPI factor).
pub const DEFAULT_SIZE: (f64, f64) = (1120.0, 760.0);
/// The smallest size the panels still fit in, logical points.
pub const MIN_SIZE: (f32, f32) = (880.0, 600.0);

/// The editor type the plugin reports to nice-plug.
pub type LatheEditorWindow = EguiEditor<LatheEditor>;

/// What the plugin keeps for its editor across openings.
pub struct EditorState {
    pub window: Arc<EguiEditorState>,
    pub repaint: RepaintNotifier,
    pub input_tap: Arc<AudioTap>,
    pub output_tap: Arc<AudioTap>,
    /// The input's side signal, for the reference loader's capture (`editor::reference`).
    pub input_side_tap: Arc<AudioTap>,
}

impl Default for EditorState {
    fn default() -> Self {
        Self {
            window: EguiEditorState::from_size(
                LogicalSize::new(DEFAULT_SIZE.0, DEFAULT_SIZE.1),
                1.0,
            ),
            repaint: RepaintNotifier::new(),
            input_tap: Arc::new(AudioTap::new()),
            output_tap: Arc::new(AudioTap::new()),
            input_side_tap: Arc::new(AudioTap::new()),
        }
    }
}

impl EditorState {
    /// Whether the window is open (an atomic load, for the audio thread).
    pub fn is_open(&self) -> bool {
        self.window.is_open()
    }
}

/// Which layer of controls is showing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// Target, Learn, ceiling, one control per stage, A/B: what most sessions need.
    Easy,
    /// Every parameter of every stage.
    Expert,
}

/// The editor app: shared handles plus GUI-only state (the view, analysers, histories).
pub struct LatheEditor {
    pub(crate) params: Arc<LatheParams>,
    pub(crate) meters: Arc<SharedMeters>,
    pub(crate) input_tap: Arc<AudioTap>,
    pub(crate) output_tap: Arc<AudioTap>,
    pub(crate) input_side_tap: Arc<AudioTap>,
    gui: Option<GuiContext>,
    pub(crate) view: View,
    pub(crate) input_spectrum: Analyser,
    pub(crate) output_spectrum: Analyser,
    pub(crate) history: layout::History,
    pub(crate) travel: travel_panel::TravelState,
    /// What the window has heard of the input, and the reference loader.
    pub(crate) capture: reference::InputCapture,
    pub(crate) reference: reference::Loader,
}

/// Builds the editor for the plugin.
pub fn create(
    state: &EditorState,
    params: Arc<LatheParams>,
    meters: Arc<SharedMeters>,
) -> Option<LatheEditorWindow> {
    let settings = EguiNiceSettings::new().with_tile("Lathe").with_resize_hint(
        ResizeHint::resizable().with_min_logical_size(LogicalSize::new(MIN_SIZE.0, MIN_SIZE.1)),
    );
    let app = LatheEditor {
        params,
        meters,
        input_tap: state.input_tap.clone(),
        output_tap: state.output_tap.clone(),
        input_side_tap: state.input_side_tap.clone(),
        gui: None,
        view: View::Easy,
        input_spectrum: Analyser::new(),
        output_spectrum: Analyser::new(),
        history: layout::History::default(),
        travel: travel_panel::TravelState::default(),
        capture: reference::InputCapture::default(),
        reference: reference::Loader::default(),
    };
    create_egui_editor(state.window.clone(), state.repaint.clone(), settings, app)
}

impl nice_plug_egui::NiceEguiApp for LatheEditor {
    fn build(
        &mut self,
        egui_ctx: egui::Context,
        nice_gui_ctx: GuiContext,
        _frame: &mut nice_plug_egui::Frame,
    ) -> Result<(), nice_plug_egui::baseview::HandlerError> {
        egui_ctx.set_visuals(egui::Visuals::dark());
        self.gui = Some(nice_gui_ctx);
        Ok(())
    }

    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut nice_plug_egui::Frame) {
        let Some(gui) = self.gui.clone() else {
            return;
        };
        let setter = gui.param_setter();
        layout::draw(self, ui, &setter);
    }

    fn editor_closed(&mut self) {
        self.gui = None;
    }
}
