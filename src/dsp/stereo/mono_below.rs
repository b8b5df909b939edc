//! Mono-below: the side signal loses everything under a chosen frequency, so the low end is
//! mono. Bass that differs between the speakers partly cancels on mono playback (phones,
//! Bluetooth speakers, club systems that sum the subs) and makes a cutting lathe's stylus
//! move vertically; mastering engineers have long summed it ("elliptical EQ" on vinyl, the
//! "mono maker" on digital masters).
//!
//! **Filter.** Mid `M = (L+R)/2` and side `S = (L−R)/2`. The side goes through the high
//! pass of a 4th-order Linkwitz–Riley crossover at `f` (two cascaded Butterworth sections),
//! the mid through that crossover's allpass, `(s² − √2·s + 1)/(s² + √2·s + 1)`, which is the
//! sum of its low and high pass (Linkwitz, JAES 24(1), 1976; see `multiband/crossover.rs`).
//! So both carry the same phase, and
//!
//! ```text
//! L' = AP(M) + HP(S) = AP(L) − LP(S),    R' = AP(M) − HP(S) = AP(R) + LP(S)
//! ```
//!
//! the whole signal allpassed, minus exactly the side's low band (24 dB/octave). The mono sum
//! `L' + R' = 2·AP(M)` keeps a flat magnitude; above about `4f` the stage is transparent
//! but for the allpass's phase. The sections are the multiband crossover's trapezoidal SVFs
//! (Simper/Zavalishin), which keep their precision at 20 Hz and 192 kHz in f32 and stay
//! well behaved while their frequency moves.
//!
//! **Contracts.** Off, the stage returns before touching the audio (bit-transparent, free).
//! Switching on or off crossfades between the dry and the filtered signal over
//! [`MONO_FADE_MS`]; a new frequency glides (one pole in log-frequency, time constant
//! [`super::super::multiband::SMOOTHING_MS`]) with coefficients updated on the multiband
//! stage's control period, counted from `reset`, so the output does not depend on the host's
//! block sizes. IIR only: no latency. Mono input passes untouched.

use crate::dsp::multiband::crossover::{Svf, SvfCoeffs, K, STATE_FLUSH};
use crate::dsp::multiband::simd::F4;
use crate::dsp::multiband::{control_period, SMOOTHING_MS};
use crate::dsp::settings::MONO_BELOW_HZ;

/// Length of the linear crossfade when mono-below is switched on or off, ms. Long enough that
/// the fade of a low note's side component is a smooth envelope (its spectrum spreads by
/// ~1/20 ms = 50 Hz, nothing audible as a click), short enough to feel immediate.
pub const MONO_FADE_MS: f32 = 20.0;

#[derive(Debug, Clone)]
pub struct MonoBelow {
    sample_rate: f32,
    period: usize,
    /// Position in the control period, counted from `reset`.
    phase: usize,
    glide_coeff: f32,
    fade_len: u32,
    inv_fade_len: f32,
    /// Crossfade position, 0 (dry) ..= `fade_len` (filtered).
    fade: u32,
    /// False until the first block after `reset`, whose on/off is taken at once.
    primed: bool,
    /// Filter state is live.
    running: bool,
    log2_hz: f32,
    target_log2_hz: f32,
    coeffs: SvfCoeffs,
    /// Lane 0: the mid's allpass section; lane 1: the side's first high-pass section.
    first: Svf,
    /// Lane 1: the side's second high-pass section.
    second: Svf,
}

impl MonoBelow {
    pub fn new(sample_rate: f32) -> Self {
        let period = control_period(sample_rate);
        let fade_len = ((MONO_FADE_MS * 0.001 * sample_rate).round() as u32).max(1);
        let log2_hz = MONO_BELOW_HZ.default.log2();
        Self {
            sample_rate,
            period,
            phase: 0,
            glide_coeff: 1.0
                - (-(period as f64) / (SMOOTHING_MS as f64 * 1e-3 * sample_rate as f64)).exp()
                    as f32,
            fade_len,
            inv_fade_len: 1.0 / fade_len as f32,
            fade: 0,
            primed: false,
            running: false,
            log2_hz,
            target_log2_hz: log2_hz,
            coeffs: SvfCoeffs::uniform(MONO_BELOW_HZ.default, sample_rate),
            first: Svf::default(),
            second: Svf::default(),
        }
    }

    /// Clears the filters; the next block's on/off and frequency are taken at once.
    pub fn reset(&mut self) {
        self.phase = 0;
        self.primed = false;
        self.running = false;
        self.fade = 0;
    }

    /// Processes one stereo block in place. `hz` is clamped into [`MONO_BELOW_HZ`].
    pub fn process(&mut self, left: &mut [f32], right: &mut [f32], on: bool, hz: f32) {
        let frames = left.len().min(right.len());
        if frames == 0 {
            return;
        }
        self.target_log2_hz = MONO_BELOW_HZ.clamp(hz).log2();
        if !self.primed {
            self.primed = true;
            self.fade = if on { self.fade_len } else { 0 };
        }
        if !on && self.fade == 0 {
            self.running = false;
            self.phase = (self.phase + frames) % self.period;
            return;
        }
        if !self.running {
            // Starting from silence of the filters: no glide needed, nothing of it is heard.
            self.first = Svf::default();
            self.second = Svf::default();
            self.log2_hz = self.target_log2_hz;
            self.coeffs = SvfCoeffs::uniform(self.log2_hz.exp2(), self.sample_rate);
            self.running = true;
        }
        let mut i = 0;
        while i < frames {
            if self.phase == 0 {
                self.control();
            }
            let end = (i + self.period - self.phase).min(frames);
            if self.run(&mut left[i..end], &mut right[i..end], on) {
                // Fully faded out: the rest of the block passes as it came.
                self.running = false;
                self.phase = (self.phase + frames - i) % self.period;
                return;
            }
            self.phase = (self.phase + end - i) % self.period;
            i = end;
        }
    }

    /// Runs at every sample whose index since `reset` is a multiple of the period.
    fn control(&mut self) {
        if self.log2_hz != self.target_log2_hz {
            self.log2_hz += self.glide_coeff * (self.target_log2_hz - self.log2_hz);
            if (self.target_log2_hz - self.log2_hz).abs() < 1e-5 {
                self.log2_hz = self.target_log2_hz;
            }
            self.coeffs = SvfCoeffs::uniform(self.log2_hz.exp2(), self.sample_rate);
        }
        self.first.flush();
        self.second.flush();
        // Only non-finite input (removed at the chain's door) can poison the state.
        if !(self.first.sum() + self.second.sum()).is_finite() {
            self.first = Svf::default();
            self.second = Svf::default();
        }
    }

    /// One run of frames inside a control period. Returns true if the stage finished fading
    /// out in it (the frames from there on are left as they came).
    #[inline(always)]
    fn run(&mut self, left: &mut [f32], right: &mut [f32], on: bool) -> bool {
        let c = self.coeffs;
        let (mut first, mut second) = (self.first, self.second);
        let mut filtered = |l: f32, r: f32| {
            let m = (l + r) * 0.5;
            let s = (l - r) * 0.5;
            // The filters hear inputs under the state flush line as zero (see
            // `STATE_FLUSH`); the mid itself passes untouched.
            let x = F4::new(m, s, 0.0, 0.0).flush_below(STATE_FLUSH);
            let (hp, bp, _) = first.tick(&c, x);
            let m = m - 2.0 * K * bp.0[0];
            let (hp, _, _) = second.tick(&c, F4::new(0.0, hp.0[1], 0.0, 0.0));
            let s = hp.0[1];
            (m + s, m - s)
        };
        let mut stopped = false;
        if on && self.fade == self.fade_len {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                (*l, *r) = filtered(*l, *r);
            }
        } else {
            for (l, r) in left.iter_mut().zip(right.iter_mut()) {
                if on {
                    self.fade = (self.fade + 1).min(self.fade_len);
                } else {
                    self.fade -= 1;
                }
                let (wl, wr) = filtered(*l, *r);
                if self.fade == 0 {
                    stopped = true;
                    break;
                }
                let w = self.fade as f32 * self.inv_fade_len;
                *l += (wl - *l) * w;
                *r += (wr - *r) * w;
            }
        }
        (self.first, self.second) = (first, second);
        stopped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Side and mid sines at `f_side` and `f_mid`; returns the output's side and mid
    /// amplitude over the last half.
    fn run(rate: f32, hz: f32, f_side: f32, f_mid: f32) -> (f32, f32) {
        let mut st = MonoBelow::new(rate);
        let n = rate as usize;
        let tau = 2.0 * std::f32::consts::PI;
        let (mut l, mut r): (Vec<f32>, Vec<f32>) = (0..n)
            .map(|i| {
                let t = i as f32 / rate;
                let m = 0.25 * (tau * f_mid * t).sin();
                let s = 0.25 * (tau * f_side * t).sin();
                (m + s, m - s)
            })
            .unzip();
        st.process(&mut l, &mut r, true, hz);
        let half = n / 2;
        let side = (half..n).fold(0.0f32, |a, i| a.max(((l[i] - r[i]) * 0.5).abs()));
        let mid = (half..n).fold(0.0f32, |a, i| a.max(((l[i] + r[i]) * 0.5).abs()));
        (side / 0.25, mid / 0.25)
    }

    /// |HP| of the LR4 high pass at `f` for a crossover at `fc` (bilinear, prewarped).
    fn lr4_high(f: f32, fc: f32, fs: f32) -> f32 {
        let t = |x: f32| (std::f64::consts::PI * x as f64 / fs as f64).tan();
        let w4 = (t(f) / t(fc)).powi(4);
        (w4 / (1.0 + w4)) as f32
    }

    #[test]
    fn side_below_the_frequency_is_removed_and_mid_keeps_its_level() {
        for rate in [44_100.0, 96_000.0, 192_000.0] {
            for (f_side, f_mid) in [(30.0, 50.0), (60.0, 200.0), (120.0, 40.0), (480.0, 2_000.0)] {
                let (side, mid) = run(rate, 120.0, f_side, f_mid);
                let want = lr4_high(f_side, 120.0, rate);
                let err_db = 20.0 * (side / want).log10();
                assert!(
                    err_db.abs() < 0.05,
                    "{rate}: side at {f_side} Hz {side} vs {want}"
                );
                // The mid only goes through the allpass: its level stays.
                assert!((mid - 1.0).abs() < 2e-3, "{rate}: mid {mid}");
            }
            // An octave under the frequency the side is down 24 dB; two octaves, 48 dB.
            let (side, _) = run(rate, 120.0, 30.0, 50.0);
            assert!(20.0 * side.log10() < -46.0, "{rate}: side {side}");
        }
    }

    #[test]
    fn off_is_bit_transparent() {
        let mut st = MonoBelow::new(48_000.0);
        let mut l: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut r: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.013).cos()).collect();
        let (l0, r0) = (l.clone(), r.clone());
        st.process(&mut l, &mut r, false, 200.0);
        assert_eq!((l, r), (l0, r0));
    }
}
