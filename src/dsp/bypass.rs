//! Gain-matched A/B bypass.
//!
//! Louder sounds better, so a bypass that jumps back to the quieter mix flatters the master.
//! This one plays the input instead, delayed by the chain's latency so the switch does not
//! shift time, and turned up or down by the difference between the output's and the input's
//! integrated loudness (ITU-R BS.1770-4, from the chain's own meters), so A and B compare at
//! equal loudness. Switching crossfades over [`CROSSFADE_MS`]; the match gain glides, so
//! neither clicks.
//!
//! The host's bypass switch uses the same path at a match of 0 dB: the input, delayed, as it
//! came in.

use super::smoothed_gain::SmoothedGain;

/// Length of the A/B crossfade; equal-gain linear, short enough to feel instant.
pub const CROSSFADE_MS: f32 = 20.0;
/// The match gain is held inside this range: a mix 30 dB quieter than its master is a
/// metering start-up, not something to turn up by 30 dB.
pub const MAX_MATCH_DB: f32 = 24.0;

#[derive(Debug, Clone)]
pub struct MatchedBypass {
    /// Per channel: the dry input, `delay` samples back.
    rings: Vec<Vec<f32>>,
    pos: usize,
    delay: usize,
    mix_step: f32,
    /// 0: processed signal; 1: the matched dry signal.
    mix: f32,
    match_gain: SmoothedGain,
}

impl MatchedBypass {
    /// `delay`: the chain's latency; `max_chunk`: the longest run of frames between
    /// `push_dry` and `mix`.
    pub fn new(sample_rate: f32, channels: usize, delay: usize, max_chunk: usize) -> Self {
        let mut match_gain = SmoothedGain::default();
        match_gain.prepare(sample_rate);
        Self {
            rings: vec![vec![0.0; delay + max_chunk + 1]; channels],
            pos: 0,
            delay,
            mix_step: 1.0 / (CROSSFADE_MS * 0.001 * sample_rate),
            mix: 0.0,
            match_gain,
        }
    }

    pub fn reset(&mut self) {
        for r in &mut self.rings {
            r.fill(0.0);
        }
        self.pos = 0;
        self.mix = 0.0;
        self.match_gain.reset();
    }

    /// Stores a chunk of dry input (before any processing).
    pub fn push_dry(&mut self, channels: &[&mut [f32]]) {
        let frames = channels.first().map_or(0, |c| c.len());
        for (ring, ch) in self.rings.iter_mut().zip(channels) {
            // At most two runs: up to the end of the ring, then from its start.
            let first = frames.min(ring.len() - self.pos);
            ring[self.pos..self.pos + first].copy_from_slice(&ch[..first]);
            ring[..frames - first].copy_from_slice(&ch[first..]);
        }
        self.pos = (self.pos + frames) % self.rings.first().map_or(1, |r| r.len());
    }

    /// Blends the processed chunk that matches the last `push_dry` with the delayed dry
    /// signal. `bypass`: where the switch is; `match_db`: output minus input loudness.
    pub fn mix(&mut self, channels: &mut [&mut [f32]], bypass: bool, match_db: f32) {
        let frames = channels.first().map_or(0, |c| c.len());
        let target_mix = if bypass { 1.0 } else { 0.0 };
        let match_db = if match_db.is_finite() {
            match_db.clamp(-MAX_MATCH_DB, MAX_MATCH_DB)
        } else {
            0.0
        };
        let target_gain = self
            .match_gain
            .set_target(super::units::db_to_gain(match_db));
        if self.mix == 0.0 && target_mix == 0.0 {
            // Not bypassed and not fading: keep the gain glide going, touch nothing.
            self.match_gain.advance(frames, target_gain);
            return;
        }
        let cap = self.rings.first().map_or(1, |r| r.len());
        // The chunk's first frame was written `frames` frames before `pos`.
        let start = (self.pos + cap - frames % cap) % cap;
        for i in 0..frames {
            if target_mix > self.mix {
                self.mix = (self.mix + self.mix_step).min(1.0);
            } else if target_mix < self.mix {
                self.mix = (self.mix - self.mix_step).max(0.0);
            }
            let g = self.match_gain.next(target_gain);
            let at = (start + i + cap - self.delay) % cap;
            for (ring, ch) in self.rings.iter().zip(channels.iter_mut()) {
                let dry = ring[at] * g;
                // Weighted sum, not `ch + (dry - ch) * mix`: at mix 1 this is the dry sample to
                // the bit (and at 0 the processed one), where the difference form rounds twice.
                ch[i] = ch[i] * (1.0 - self.mix) + dry * self.mix;
            }
        }
    }
}
