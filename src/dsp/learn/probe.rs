//! The learner's ears: K-weighted loudness of the limiter's output with the drive divided out,
//! for the real limiter and for two shadow limiters that run the same program
//! [`PROBE_DB`] quieter and louder.
//!
//! Why shadows: how loud the master gets for a given drive depends on how hard the limiter
//! works, which no cheap model predicts well across programs (a dense electronic track and a
//! string quartet lose loudness at very different rates). Two more copies of the real limiter,
//! fed the same audio ±2 dB, measure that rate exactly around the drive in use, block by
//! block. While Learn is on the limiter costs three times as much; off, nothing runs.

use ebur128::{EbuR128, Mode};

use crate::dsp::chain::CHUNK_FRAMES;
use crate::dsp::limiter_stage::LimiterStage;
use crate::dsp::settings::LimiterSettings;

/// How far below and above the applied drive the shadow limiters run, dB. Wide enough that
/// a drive that wanders while it learns stays inside the measured span, narrow enough that a
/// quadratic through the three points follows the loudness curve (its curvature under heavy
/// limiting is ~0.05 LU/dB²: the error at the midpoints is a few hundredths of an LU).
pub const PROBE_DB: f32 = 2.0;

/// A BS.1770 meter fed with output over drive (`u = y/g`), one chunk at a time.
pub struct UnitMeter {
    meter: Option<EbuR128>,
    /// The chunk's `u`, per channel (mono is measured as dual mono, like the chain's meters).
    pub unit: [Vec<f32>; 2],
}

impl UnitMeter {
    pub fn new(sample_rate: f32) -> Self {
        Self {
            meter: EbuR128::new(2, sample_rate as u32, Mode::M).ok(),
            unit: [vec![0.0; CHUNK_FRAMES], vec![0.0; CHUNK_FRAMES]],
        }
    }

    pub fn reset(&mut self) {
        if let Some(m) = &mut self.meter {
            m.reset();
        }
    }

    /// Measures the first `frames` of `unit`.
    pub fn feed(&mut self, frames: usize) {
        if let Some(m) = &mut self.meter {
            let result =
                m.add_frames_planar_f32(&[&self.unit[0][..frames], &self.unit[1][..frames]]);
            // ebur128 only fails on mismatched slices, which these are not.
            debug_assert!(result.is_ok());
        }
    }

    /// Mean square energy of the last 400 ms (0 for silence or before 400 ms).
    pub fn energy(&self) -> f64 {
        let lufs = self
            .meter
            .as_ref()
            .and_then(|m| m.loudness_momentary().ok())
            .unwrap_or(f64::NEG_INFINITY);
        super::lufs_to_energy(lufs)
    }
}

/// A copy of the limiter stage (clipper and limiter) running the program at the applied
/// drive times `factor`.
pub struct Shadow {
    limiter: LimiterStage,
    /// The chunk's limiter input, then (after [`Shadow::run`]) its output.
    pub audio: [Vec<f32>; 2],
    /// Linear gain over the applied drive, and its inverse.
    pub factor: f32,
    pub inv_factor: f32,
    pub meter: UnitMeter,
}

impl Shadow {
    pub fn new(sample_rate: f32, channels: usize, offset_db: f32) -> Self {
        let factor = crate::dsp::units::db_to_gain(offset_db);
        Self {
            limiter: LimiterStage::new(sample_rate, channels),
            audio: [vec![0.0; CHUNK_FRAMES], vec![0.0; CHUNK_FRAMES]],
            factor,
            inv_factor: 1.0 / factor,
            meter: UnitMeter::new(sample_rate),
        }
    }

    pub fn reset(&mut self) {
        self.limiter.reset();
        self.meter.reset();
    }

    /// Limits the first `frames` of `audio` in place, with the real limiter's settings.
    pub fn run(&mut self, frames: usize, channels: usize, settings: &LimiterSettings) {
        let [left, right] = &mut self.audio;
        if channels >= 2 {
            self.limiter
                .process(&mut [&mut left[..frames], &mut right[..frames]], settings);
        } else {
            self.limiter.process(&mut [&mut left[..frames]], settings);
        }
    }
}
