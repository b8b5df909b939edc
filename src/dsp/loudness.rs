//! Loudness metering on the audio thread (ITU-R BS.1770-4, EBU R128), through the ebur128
//! crate.
//!
//! ebur128 keeps its gating history in a queue that grows (and allocates) unless it is put
//! in histogram mode, so the meter is built with `Mode::HISTOGRAM` in `prepare` and only fed
//! in `process`. Mono is measured as dual mono, the way a mono master plays on two speakers.

use ebur128::{EbuR128, Mode};

pub struct LoudnessMeter {
    meter: EbuR128,
    /// Frames since the readings were last taken, and how many make 100 ms.
    since_reading: usize,
    reading_interval: usize,
    momentary_lufs: f32,
    short_term_lufs: f32,
    integrated_lufs: f32,
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
            .map(|meter| Self {
                meter,
                since_reading: 0,
                reading_interval: (sample_rate / 10.0) as usize,
                momentary_lufs: f32::NEG_INFINITY,
                short_term_lufs: f32::NEG_INFINITY,
                integrated_lufs: f32::NEG_INFINITY,
            })
    }

    pub fn reset(&mut self) {
        self.meter.reset();
        self.since_reading = 0;
        self.momentary_lufs = f32::NEG_INFINITY;
        self.short_term_lufs = f32::NEG_INFINITY;
        self.integrated_lufs = f32::NEG_INFINITY;
    }

    pub fn add(&mut self, channels: &[&mut [f32]]) {
        let result = match channels {
            [mono] => self.meter.add_frames_planar_f32(&[mono, mono]),
            [left, right, ..] => self.meter.add_frames_planar_f32(&[left, right]),
            [] => Ok(()),
        };
        // ebur128 only fails on mismatched channel slices, which the match above rules out.
        debug_assert!(result.is_ok());
        // A reading sums the whole 400 ms / 3 s window, so taking one per 64-sample block would
        // cost more than the chain itself. EBU Tech 3341 asks meters to update at least ten
        // times a second; gating blocks step by 100 ms anyway.
        self.since_reading += channels.first().map_or(0, |c| c.len());
        if self.since_reading >= self.reading_interval {
            self.since_reading = 0;
            let lufs = |r: Result<f64, ebur128::Error>| r.unwrap_or(f64::NEG_INFINITY) as f32;
            self.momentary_lufs = lufs(self.meter.loudness_momentary());
            self.short_term_lufs = lufs(self.meter.loudness_shortterm());
            self.integrated_lufs = lufs(self.meter.loudness_global());
        }
    }

    pub fn momentary_lufs(&self) -> f32 {
        self.momentary_lufs
    }

    pub fn short_term_lufs(&self) -> f32 {
        self.short_term_lufs
    }

    pub fn integrated_lufs(&self) -> f32 {
        self.integrated_lufs
    }
}
