//! Fades made in mastering: a fade-in over the first milliseconds (to take a click or a
//! breath off the start) and a fade-out over the last seconds (a mix that ends on a loop).
//!
//! Both use the raised-cosine (half-Hann) curve, `g = (1 - cos(πt)) / 2`: its slope is zero
//! at both ends, so neither end of the fade has a corner the ear hears as a click.

use std::f64::consts::PI;

/// What to fade, in the units the command line takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Fades {
    pub fade_in_ms: f64,
    pub fade_out_s: f64,
}

impl Fades {
    pub fn is_none(&self) -> bool {
        self.fade_in_ms <= 0.0 && self.fade_out_s <= 0.0
    }

    /// Applies both fades to planar audio at `rate`, in place. A fade longer than the audio
    /// is cut to its length.
    pub fn apply(&self, channels: &mut [Vec<f32>], rate: u32) {
        let frames = channels.first().map_or(0, Vec::len);
        let mut whole: Vec<&mut [f32]> = channels.iter_mut().map(|c| &mut c[..]).collect();
        self.apply_block(&mut whole, 0, frames, rate);
    }

    /// [`Fades::apply`] on one block of a song `frames` long that starts at frame `start`:
    /// block by block, the same samples as on the whole song at once.
    pub fn apply_block(&self, block: &mut [&mut [f32]], start: usize, frames: usize, rate: u32) {
        let fade_in = ((self.fade_in_ms.max(0.0) * 1e-3 * rate as f64) as usize).min(frames);
        let fade_out = ((self.fade_out_s.max(0.0) * rate as f64) as usize).min(frames);
        let out_start = frames - fade_out;
        for ch in block.iter_mut() {
            let end = start + ch.len();
            for i in start..end.min(fade_in) {
                ch[i - start] *= raised_cosine(i as f64 / fade_in as f64) as f32;
            }
            for i in start.max(out_start)..end.min(frames) {
                // Ends at exactly 0 on the last sample.
                let t = (frames - 1 - i) as f64 / (fade_out.max(2) - 1) as f64;
                ch[i - start] *= raised_cosine(t) as f32;
            }
        }
    }
}

/// 0 at t = 0, 1 at t = 1, zero slope at both.
fn raised_cosine(t: f64) -> f64 {
    0.5 - 0.5 * (PI * t.clamp(0.0, 1.0)).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fades_start_and_end_at_silence_and_leave_the_middle_alone() {
        let rate = 1000;
        let mut ch = vec![vec![1.0f32; 5000]; 2];
        Fades {
            fade_in_ms: 100.0,
            fade_out_s: 1.0,
        }
        .apply(&mut ch, rate);
        for c in &ch {
            assert_eq!(c[0], 0.0);
            assert!((c[50] - 0.5).abs() < 1e-6, "{}", c[50]);
            assert_eq!(c[100], 1.0);
            assert_eq!(c[3999], 1.0);
            assert!(c[4000] == 1.0 && c[4001] < 1.0 && c[4001] > 0.999);
            assert_eq!(c[4999], 0.0);
            // Monotonic on the way out.
            assert!(c[4000..].windows(2).all(|w| w[1] <= w[0]));
        }
    }

    #[test]
    fn a_fade_longer_than_the_audio_is_cut_to_it() {
        let mut ch = vec![vec![1.0f32; 10]];
        Fades {
            fade_in_ms: 1e6,
            fade_out_s: 1e6,
        }
        .apply(&mut ch, 1000);
        assert!(ch[0].iter().all(|x| x.is_finite() && *x <= 1.0));
        Fades::default().apply(&mut ch, 1000);
        let mut empty: Vec<Vec<f32>> = vec![vec![]];
        Fades {
            fade_in_ms: 10.0,
            fade_out_s: 1.0,
        }
        .apply(&mut empty, 1000);
    }

    #[test]
    fn block_by_block_is_the_whole_song_at_once() {
        let fades = Fades {
            fade_in_ms: 10.0,
            fade_out_s: 0.02,
        };
        let whole: Vec<f32> = (0..3000).map(|n| (n as f32 * 0.01).sin()).collect();
        let mut at_once = vec![whole.clone()];
        fades.apply(&mut at_once, 48_000);
        let mut blocks = whole.clone();
        for (k, chunk) in blocks.chunks_mut(333).enumerate() {
            fades.apply_block(&mut [chunk], k * 333, whole.len(), 48_000);
        }
        assert_eq!(blocks, at_once[0]);
        assert_ne!(blocks, whole, "the fades did something");
    }
}
