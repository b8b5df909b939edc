//! The limiter stage: the style's transient clipper, then the true-peak limiter. One stage
//! with one latency, so the chain, the Learn mode's shadow limiters and anything else that
//! runs "the limiter" run both.

use super::clipper::TransientClipper;
use super::limiter::{TruePeakLimiter, CEILING_MARGIN_DB};
use super::settings::LimiterSettings;
use super::units::db_to_gain;

#[derive(Debug, Clone)]
pub struct LimiterStage {
    clipper: TransientClipper,
    limiter: TruePeakLimiter,
}

impl LimiterStage {
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        Self {
            clipper: TransientClipper::new(sample_rate, channels),
            limiter: TruePeakLimiter::new(sample_rate, channels),
        }
    }

    pub fn reset(&mut self) {
        self.clipper.reset();
        self.limiter.reset();
    }

    /// Fixed per sample rate: neither the style nor the look-ahead moves it.
    pub fn latency_samples(&self) -> usize {
        self.clipper.latency_samples() + self.limiter.latency_samples()
    }

    /// The limiter's oversampling factor.
    pub fn oversampling(&self) -> usize {
        self.limiter.oversampling()
    }

    /// The transient clipper's deepest cut since the last call, dB (0 or negative).
    pub fn take_clip_cut_db(&mut self) -> f32 {
        self.clipper.take_cut_db()
    }

    /// Applies settings that change the latency-relevant state without audio.
    pub fn configure(&mut self, settings: &LimiterSettings) {
        self.limiter.configure(settings);
    }

    /// Clips (as the style says) and limits `channels` in place. Returns the limiter's
    /// smallest gain in the block.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &LimiterSettings) -> f32 {
        self.process_metered(channels, settings, None)
    }

    /// [`Self::process`], with the limiter's output true peak per frame
    /// ([`TruePeakLimiter::process_metered`]).
    pub fn process_metered(
        &mut self,
        channels: &mut [&mut [f32]],
        settings: &LimiterSettings,
        meter: Option<(&mut [f32], f32)>,
    ) -> f32 {
        let threshold = db_to_gain(settings.ceiling_dbtp - CEILING_MARGIN_DB);
        self.clipper
            .process(channels, settings.style.clip_shape(), threshold);
        self.limiter.process_metered(channels, settings, meter)
    }
}
