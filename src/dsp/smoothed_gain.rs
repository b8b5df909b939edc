//! A linear gain that glides to its target instead of stepping (a step is a click).

use super::sanitize::flush;

/// One-pole smoothing toward a target gain, advanced once per sample so the result does not
/// depend on how the host splits its blocks. The first target after `reset` is taken at once:
/// a session opening at -6 dB should not fade in from 0 dB.
#[derive(Debug, Clone)]
pub struct SmoothedGain {
    current: f32,
    /// Distance still to go to `target`, decayed on its own: decaying `current` directly
    /// stalls a few ulps short, where one step is smaller than half an ulp of the gain.
    offset: f32,
    target: f32,
    coeff: f32,
    primed: bool,
}

/// Time constant of the glide. 10 ms is inaudible as a ramp yet fast enough to follow
/// automation; about 99 % of a change is done after 46 ms.
pub const SMOOTHING_MS: f32 = 10.0;

impl Default for SmoothedGain {
    fn default() -> Self {
        Self {
            current: 1.0,
            offset: 0.0,
            target: 1.0,
            coeff: 0.0,
            primed: false,
        }
    }
}

impl SmoothedGain {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.coeff = (-1.0 / (SMOOTHING_MS * 0.001 * sample_rate)).exp();
        self.reset();
    }

    pub fn reset(&mut self) {
        self.primed = false;
    }

    /// Sets the target for this block; snaps to it if nothing has been processed yet.
    #[inline]
    pub fn set_target(&mut self, target: f32) -> f32 {
        if !self.primed {
            self.current = target;
            self.target = target;
            self.offset = 0.0;
            self.primed = true;
        }
        target
    }

    /// The next gain on the way to `target`. Once within 1e-6 of it, lands exactly, so a
    /// neutral gain of 1.0 really is 1.0 and the signal passes bit for bit.
    #[inline]
    pub fn next(&mut self, target: f32) -> f32 {
        if target != self.target {
            self.offset = self.current - target;
            self.target = target;
        }
        let offset = flush(self.offset * self.coeff);
        self.offset = if offset.abs() < 1e-6 { 0.0 } else { offset };
        self.current = target + self.offset;
        self.current
    }

    /// Moves the glide on by `frames` frames, as that many calls to `next` would; once the
    /// gain has landed on `target` the rest are free.
    #[inline]
    pub fn advance(&mut self, frames: usize, target: f32) {
        for _ in 0..frames {
            if self.is_settled_at(target) {
                return;
            }
            self.next(target);
        }
    }

    pub fn is_settled_at(&self, target: f32) -> bool {
        self.current == target && self.target == target
    }

    /// Multiplies `samples` by the gliding gain, one gain value per frame for all channels.
    #[inline]
    pub fn apply(&mut self, channels: &mut [&mut [f32]], target: f32) {
        let target = self.set_target(target);
        let frames = channels.first().map_or(0, |c| c.len());
        if self.is_settled_at(target) {
            if target != 1.0 {
                for ch in channels.iter_mut() {
                    for s in ch.iter_mut() {
                        *s *= target;
                    }
                }
            }
            return;
        }
        for i in 0..frames {
            let g = self.next(target);
            for ch in channels.iter_mut() {
                ch[i] *= g;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glides_without_steps_and_lands_exactly() {
        let mut g = SmoothedGain::default();
        g.prepare(48_000.0);
        g.set_target(1.0);
        let mut last = 1.0;
        let mut max_step = 0.0f32;
        for _ in 0..48_000 {
            let v = g.next(0.5);
            max_step = max_step.max((v - last).abs());
            last = v;
        }
        assert_eq!(last, 0.5);
        // A 0.5 change spread by a 10 ms one-pole: first step is 0.5·(1-coeff) ≈ 1 ‰.
        assert!(max_step < 0.0011, "{max_step}");
    }

    #[test]
    fn first_target_after_reset_is_taken_at_once() {
        let mut g = SmoothedGain::default();
        g.prepare(44_100.0);
        let mut x = [1.0f32; 4];
        g.apply(&mut [&mut x[..]], 0.25);
        assert_eq!(x, [0.25; 4]);
    }
}
