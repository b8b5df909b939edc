//! What the chain tells the editor and the renderer about the last block.

use super::learn::LearnState;
use super::loudness::LoudnessReading;
use super::platforms::PLATFORM_COUNT;

/// Plain values filled by `Chain::process`. Levels in dB; `-inf` means silence, and
/// loudness values are `-inf` until enough audio has been measured (400 ms for momentary,
/// 3 s for short-term, ITU-R BS.1770-4 / EBU Tech 3341).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Meters {
    /// Largest sample magnitude of the input block, dBFS.
    pub input_peak_db: f32,
    /// Largest sample magnitude of the output block, dBFS.
    pub output_peak_db: f32,
    /// The multiband compressor's deepest gain reduction per band in the block, dB (<= 0).
    pub multiband_gain_db: [f32; 4],
    /// The limiter's deepest gain reduction in the block, dB (0 or negative).
    pub limiter_gain_db: f32,
    /// The transient clipper's deepest cut in the block, dB (0 or negative): how far under
    /// itself it brought the sample (or point between samples) it cut most.
    pub clipper_gain_db: f32,
    /// Left/right correlation of the output block (1 for mono).
    pub correlation: f32,
    /// Loudness of the chain's input and output (only while metering is on).
    pub input_loudness: LoudnessReading,
    pub output_loudness: LoudnessReading,
    /// Samples in the block that were NaN or infinite and were replaced by silence.
    pub non_finite_samples: u32,
    /// Per destination (indexed by `Platform as usize`), how many dB it will turn the
    /// output up (+) or down (−) on playback, from the output's integrated loudness and
    /// true peak (see `platforms.rs`; 0 until the loudness is known or with metering off).
    pub platform_gain_db: [f32; PLATFORM_COUNT],
    /// What Learn is doing, and the learned gain (the learner's while it learns, the
    /// settings' otherwise), dB.
    pub learn_state: LearnState,
    pub learned_gain_db: f32,
}

impl Default for Meters {
    fn default() -> Self {
        Self {
            input_peak_db: f32::NEG_INFINITY,
            output_peak_db: f32::NEG_INFINITY,
            multiband_gain_db: [0.0; 4],
            limiter_gain_db: 0.0,
            clipper_gain_db: 0.0,
            correlation: 1.0,
            input_loudness: LoudnessReading::default(),
            output_loudness: LoudnessReading::default(),
            non_finite_samples: 0,
            platform_gain_db: [0.0; PLATFORM_COUNT],
            learn_state: LearnState::Off,
            learned_gain_db: 0.0,
        }
    }
}

/// Largest magnitude over every channel, in dBFS.
pub fn peak_db(channels: &[&mut [f32]]) -> f32 {
    let peak = channels
        .iter()
        .flat_map(|c| c.iter())
        .fold(0.0f32, |a, &b| a.max(b.abs()));
    super::units::gain_to_db(peak)
}
