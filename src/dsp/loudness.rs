//! Loudness metering on the audio thread (ITU-R BS.1770-4, EBU R128), through the ebur128
//! crate.
//!
//! ebur128 keeps its gating history in a queue that grows (and allocates) unless it is put
//! in histogram mode, so the meter is built with `Mode::HISTOGRAM` in `prepare` and only fed
//! in `process`. Mono is measured as dual mono, the way a mono master plays on two speakers.

use ebur128::{EbuR128, Mode};

pub struct LoudnessMeter {
    meter: EbuR128,
}

impl std::fmt::Debug for LoudnessMeter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessMeter").finish_non_exhaustive()
    }
}

impl LoudnessMeter {
    /// `None` only for a sample rate ebur128 refuses (it takes 16 Hz to 2.8 MHz).
    pub fn new(sample_rate: f32) -> Option<Self> {
        let mode = Mode::M | Mode::S | Mode::I | Mode::HISTOGRAM;
        EbuR128::new(2, sample_rate as u32, mode)
            .ok()
            .map(|meter| Self { meter })
    }

    pub fn reset(&mut self) {
        self.meter.reset();
    }

    pub fn add(&mut self, channels: &[&mut [f32]]) {
        let result = match channels {
            [mono] => self.meter.add_frames_planar_f32(&[mono, mono]),
            [left, right, ..] => self.meter.add_frames_planar_f32(&[left, right]),
            [] => Ok(()),
        };
        // ebur128 only fails on mismatched channel slices, which the match above rules out.
        debug_assert!(result.is_ok());
    }

    pub fn momentary_lufs(&self) -> f32 {
        self.meter.loudness_momentary().unwrap_or(f64::NEG_INFINITY) as f32
    }

    pub fn short_term_lufs(&self) -> f32 {
        self.meter.loudness_shortterm().unwrap_or(f64::NEG_INFINITY) as f32
    }

    pub fn integrated_lufs(&self) -> f32 {
        self.meter.loudness_global().unwrap_or(f64::NEG_INFINITY) as f32
    }
}
