//! The CLAP/VST3 plugin: nice-plug glue around [`Chain`]. It turns parameters into
//! `ChainSettings`, hands the host's buffer to the chain, reports latency, and publishes the
//! meters through atomics for an editor. No DSP lives here.

use std::num::NonZeroU32;
use std::sync::Arc;

use atomic_float::AtomicF32;
use nice_plug::prelude::*;

use crate::dsp::learn::LearnState;
use crate::dsp::platforms::PLATFORM_COUNT;
use crate::dsp::{Chain, Meters};
use crate::editor::{self, EditorState, LatheEditorWindow};
use crate::params::LatheParams;
use std::sync::atomic::Ordering;

/// The meters an editor reads. Written with relaxed atomic stores at the end of each block:
/// the audio thread never waits on the GUI.
#[derive(Debug, Default)]
pub struct SharedMeters {
    pub input_peak_db: AtomicF32,
    pub output_peak_db: AtomicF32,
    pub limiter_gain_db: AtomicF32,
    pub multiband_gain_db: [AtomicF32; 4],
    pub correlation: AtomicF32,
    pub momentary_lufs: AtomicF32,
    pub short_term_lufs: AtomicF32,
    pub integrated_lufs: AtomicF32,
    pub loudness_range_lu: AtomicF32,
    pub true_peak_dbtp: AtomicF32,
    pub plr_db: AtomicF32,
    pub input_integrated_lufs: AtomicF32,
    /// Largest true peak of the input since reset, dBTP.
    pub input_true_peak_dbtp: AtomicF32,
    pub latency_samples: std::sync::atomic::AtomicU32,
    /// Per destination (`Platform as usize`), dB it will turn the master up or down.
    pub platform_gain_db: [AtomicF32; PLATFORM_COUNT],
    /// `LearnState as u32` (0 off, 1 measuring, 2 learning, 3 out of range, 4 full).
    pub learn_state: std::sync::atomic::AtomicU32,
    pub learned_gain_db: AtomicF32,
    /// The rate the chain runs at, Hz (for the editor's EQ curve and spectrum axis).
    pub sample_rate_hz: AtomicF32,
}

impl SharedMeters {
    pub fn publish(&self, m: &Meters) {
        let r = Ordering::Relaxed;
        self.input_peak_db.store(m.input_peak_db, r);
        self.output_peak_db.store(m.output_peak_db, r);
        self.limiter_gain_db.store(m.limiter_gain_db, r);
        for (meter, &gr) in self.multiband_gain_db.iter().zip(&m.multiband_gain_db) {
            meter.store(gr, r);
        }
        self.correlation.store(m.correlation, r);
        let out = &m.output_loudness;
        self.momentary_lufs.store(out.momentary_lufs, r);
        self.short_term_lufs.store(out.short_term_lufs, r);
        self.integrated_lufs.store(out.integrated_lufs, r);
        self.loudness_range_lu.store(out.range_lu, r);
        self.true_peak_dbtp.store(out.true_peak_dbtp, r);
        self.plr_db.store(out.plr_db, r);
        self.input_integrated_lufs
            .store(m.input_loudness.integrated_lufs, r);
        self.input_true_peak_dbtp
            .store(m.input_loudness.true_peak_dbtp, r);
        for (meter, &gain) in self.platform_gain_db.iter().zip(&m.platform_gain_db) {
            meter.store(gain, r);
        }
        self.learn_state.store(learn_state_code(m.learn_state), r);
        self.learned_gain_db.store(m.learned_gain_db, r);
    }
}

/// The learn state as a number an editor can read from an atomic.
pub fn learn_state_code(state: LearnState) -> u32 {
    match state {
        LearnState::Off => 0,
        LearnState::Measuring => 1,
        LearnState::Learning => 2,
        LearnState::OutOfRange => 3,
        LearnState::Full => 4,
    }
}

pub struct Lathe {
    params: Arc<LatheParams>,
    chain: Chain,
    meters: Meters,
    shared_meters: Arc<SharedMeters>,
    latency: u32,
    /// The editor's window state, its repaint flag and its spectrum taps: the audio thread
    /// touches them only with atomic loads and stores, and only while the window is open.
    editor: EditorState,
}

impl Default for Lathe {
    fn default() -> Self {
        Self {
            params: Arc::new(LatheParams::default()),
            chain: Chain::new(),
            meters: Meters::default(),
            shared_meters: Arc::new(SharedMeters::default()),
            latency: 0,
            editor: EditorState::default(),
        }
    }
}

impl Lathe {
    /// The meters, for an editor to read.
    pub fn shared_meters(&self) -> Arc<SharedMeters> {
        self.shared_meters.clone()
    }

    /// The parameters (shared with the host and the editor).
    pub fn lathe_params(&self) -> Arc<LatheParams> {
        self.params.clone()
    }

    /// Prepares the chain for a sample rate and block size; returns the latency to report.
    /// (The body of `activate`, callable by a wrapper such as the standalone player.)
    pub fn prepare(&mut self, sample_rate: f32, max_block: usize) -> u32 {
        self.chain.prepare(sample_rate, max_block);
        // Fixed for a sample rate, whatever the settings: reported once, at activation, which
        // is the only place CLAP allows a latency change.
        self.latency = self.chain.latency_samples() as u32;
        let r = Ordering::Relaxed;
        self.shared_meters.latency_samples.store(self.latency, r);
        self.shared_meters.sample_rate_hz.store(sample_rate, r);
        self.latency
    }

    /// One block through the chain, with the meters published (the body of `process`).
    pub fn process_block(&mut self, buffer: &mut Buffer) -> ProcessStatus {
        let settings = self.params.settings();
        let open = self.editor.is_open();
        if open {
            self.editor.input_tap.push(buffer.as_slice());
            self.editor.input_side_tap.push_side(buffer.as_slice());
        }
        self.chain
            .process(buffer.as_slice(), &settings, &mut self.meters);
        self.shared_meters.publish(&self.meters);
        if open {
            self.editor.output_tap.push(buffer.as_slice());
            // An atomic store: the window repaints at its next poll, so meters move while
            // audio plays, and nothing is asked of a closed window.
            self.editor.repaint.request_repaint();
        }
        // While Learn runs, its gain becomes the saved one: when Learn is switched off the
        // settings carry exactly it, and a session saved now reloads with it.
        if self.meters.learn_state != LearnState::Off {
            self.params
                .target
                .learned_gain_db
                .store(self.meters.learned_gain_db, Ordering::Relaxed);
        }
        // The look-ahead delay still holds audio after the input stops.
        ProcessStatus::Tail(self.latency)
    }

    /// The editor window (created on the main thread when the host asks for it).
    pub fn create_editor(&self) -> Option<LatheEditorWindow> {
        editor::create(
            &self.editor,
            self.params.clone(),
            self.shared_meters.clone(),
        )
    }
}

impl Plugin for Lathe {
    const NAME: &'static str = "Lathe";
    const VENDOR: &'static str = "Lathe";
    const URL: &'static str = "https://lathe.invalid";
    const EMAIL: &'static str = "lathe@lathe.invalid";
    const VERSION: &'static str = env!("CARGO_PKG_VERSION");

    const AUDIO_IO_LAYOUTS: &'static [AudioIOLayout] = &[
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(2),
            main_output_channels: NonZeroU32::new(2),
            ..AudioIOLayout::const_default()
        },
        AudioIOLayout {
            main_input_channels: NonZeroU32::new(1),
            main_output_channels: NonZeroU32::new(1),
            ..AudioIOLayout::const_default()
        },
    ];

    // Automation is applied at the sample it is written for, as the renderer would.
    const SAMPLE_ACCURATE_AUTOMATION: bool = true;

    type Editor = LatheEditorWindow;
    type SysExMessage = ();
    type BackgroundTask = ();

    fn params(&self) -> Arc<dyn Params> {
        self.params.clone()
    }

    fn editor(&mut self, _async_executor: AsyncExecutor<Self>) -> Option<Self::Editor> {
        self.create_editor()
    }

    fn activate(
        &mut self,
        _layout: &AudioIOLayout,
        buffer_config: &BufferConfig,
        context: &mut impl ActivateContext<Self>,
    ) -> bool {
        let latency = self.prepare(
            buffer_config.sample_rate,
            buffer_config.max_buffer_size as usize,
        );
        context.set_latency_samples(latency);
        true
    }

    fn reset(&mut self) {
        self.chain.reset();
    }

    fn process(
        &mut self,
        buffer: &mut Buffer,
        _aux: &mut AuxiliaryBuffers,
        _context: &mut impl ProcessContext<Self>,
    ) -> ProcessStatus {
        self.process_block(buffer)
    }
}

impl ClapPlugin for Lathe {
    const CLAP_ID: &'static str = "audio.lathe.mastering-chain";
    const CLAP_DESCRIPTION: Option<&'static str> = Some(
        "Mastering chain: tonal EQ, multiband compression, true-peak limiting to a LUFS target",
    );
    const CLAP_MANUAL_URL: Option<&'static str> = None;
    const CLAP_SUPPORT_URL: Option<&'static str> = None;
    const CLAP_FEATURES: &'static [ClapFeature] = &[
        ClapFeature::AudioEffect,
        ClapFeature::Mastering,
        ClapFeature::Stereo,
        ClapFeature::Mono,
    ];
}

impl Vst3Plugin for Lathe {
    const VST3_CLASS_ID: [u8; 16] = *b"LatheMasterChain";
    const VST3_SUBCATEGORIES: &'static [Vst3SubCategory] =
        &[Vst3SubCategory::Fx, Vst3SubCategory::Mastering];
}

nice_export_clap!(Lathe);
nice_export_vst3!(Lathe);
