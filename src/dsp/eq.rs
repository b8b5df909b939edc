//! Tonal EQ stage. Its place in the chain is fixed (after the input trim, before the
//! multiband compressor); its bands (high-pass, shelves, bells, tilt) arrive with the DSP
//! issue. Until then it is neutral, and the chain already calls it in order.

use super::settings::EqSettings;

#[derive(Debug, Clone, Default)]
pub struct TonalEq;

impl TonalEq {
    pub fn prepare(&mut self, _sample_rate: f32) {}
    pub fn reset(&mut self) {}
    pub fn process(&mut self, _channels: &mut [&mut [f32]], _settings: &EqSettings) {}
    pub fn latency_samples(&self) -> usize {
        0
    }
    /// The EQ's magnitude response at `freq_hz`, for the editor's curve. Neutral: 0 dB.
    pub fn magnitude_db(&self, _settings: &EqSettings, _freq_hz: f32) -> f32 {
        0.0
    }
}
