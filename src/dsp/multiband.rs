//! Multiband compressor stage. Its place in the chain is fixed (after the tonal EQ, before
//! the stereo stage); crossovers and per-band compressors arrive with the DSP issue. Until
//! then it is neutral, and the chain already calls it in order.

use super::settings::MultibandSettings;

#[derive(Debug, Clone, Default)]
pub struct Multiband;

impl Multiband {
    pub fn prepare(&mut self, _sample_rate: f32) {}
    pub fn reset(&mut self) {}
    pub fn process(&mut self, _channels: &mut [&mut [f32]], _settings: &MultibandSettings) {}
    pub fn latency_samples(&self) -> usize {
        0
    }
}
