//! The stereo stage: width (the side signal scaled around the mid), then mono-below (the low
//! end of the side removed, so the bass is the same in both speakers).

mod mono_below;

pub use mono_below::{MonoBelow, MONO_FADE_MS};

use super::settings::StereoSettings;
use super::smoothed_gain::SmoothedGain;

/// Width as mid/side gain, written so that 100 % is the identity to the bit:
/// with `S = (L - R) / 2`, `L' = L + (w - 1)·S` and `R' = R - (w - 1)·S`, which is
/// `M + w·S` and `M - w·S`. At w = 1 the correction term is exactly 0.
#[derive(Debug, Clone)]
pub struct StereoStage {
    width: SmoothedGain,
    mono_below: MonoBelow,
}

impl Default for StereoStage {
    fn default() -> Self {
        let mut stage = Self {
            width: SmoothedGain::default(),
            mono_below: MonoBelow::new(48_000.0),
        };
        stage.prepare(48_000.0);
        stage
    }
}

impl StereoStage {
    pub fn prepare(&mut self, sample_rate: f32) {
        self.width.prepare(sample_rate);
        self.mono_below = MonoBelow::new(sample_rate);
    }

    pub fn reset(&mut self) {
        self.width.reset();
        self.mono_below.reset();
    }

    /// Mono passes untouched: width has no meaning for one channel, and one channel is
    /// already mono at every frequency.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &StereoSettings) {
        let target = self.width.set_target(settings.width_pct * 0.01);
        let [left, right] = channels else {
            return;
        };
        if !self.width.is_settled_at(1.0) || target != 1.0 {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                let excess = self.width.next(target) - 1.0;
                let side = (*l - *r) * 0.5;
                *l += excess * side;
                *r -= excess * side;
            }
        }
        self.mono_below
            .process(left, right, settings.mono_below, settings.mono_below_hz);
    }
}

/// Pearson correlation of left and right over a block, in -1..1 (1: mono, 0: unrelated,
/// -1: out of phase). Silence reads as 1, since it will not cancel in mono.
pub fn correlation(left: &[f32], right: &[f32]) -> f32 {
    let (mut lr, mut ll, mut rr) = (0.0f64, 0.0f64, 0.0f64);
    for (&l, &r) in left.iter().zip(right) {
        lr += l as f64 * r as f64;
        ll += l as f64 * l as f64;
        rr += r as f64 * r as f64;
    }
    let denom = (ll * rr).sqrt();
    if denom > 1e-20 {
        (lr / denom) as f32
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn width(pct: f32) -> StereoSettings {
        StereoSettings {
            width_pct: pct,
            ..StereoSettings::default()
        }
    }

    #[test]
    fn zero_width_is_mono_and_full_width_is_identity() {
        let mut st = StereoStage::default();
        st.prepare(48_000.0);
        let mut l = [0.5f32, -0.25, 0.125];
        let mut r = [0.1f32, 0.3, -0.7];
        let (l0, r0) = (l, r);
        st.process(&mut [&mut l[..], &mut r[..]], &width(100.0));
        assert_eq!((l, r), (l0, r0));
        let mut st = StereoStage::default();
        st.prepare(48_000.0);
        st.process(&mut [&mut l[..], &mut r[..]], &width(0.0));
        for i in 0..3 {
            assert!((l[i] - r[i]).abs() < 1e-7);
            assert!((l[i] - (l0[i] + r0[i]) / 2.0).abs() < 1e-7);
        }
        assert!((correlation(&l, &r) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn width_glides_back_to_exactly_the_identity() {
        let mut st = StereoStage::default();
        st.prepare(44_100.0);
        let mut l = vec![0.3f32; 4410];
        let mut r = vec![-0.2f32; 4410];
        st.process(&mut [&mut l[..], &mut r[..]], &width(150.0));
        let (mut l, mut r) = (vec![0.3f32; 44_100], vec![-0.2f32; 44_100]);
        st.process(&mut [&mut l[..], &mut r[..]], &width(100.0));
        assert_eq!(l[44_000], 0.3);
        assert_eq!(r[44_000], -0.2);
    }
}
