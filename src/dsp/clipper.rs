//! Transient clipper: the stage before the true-peak limiter that takes the tips off peaks
//! which stand far out of the music around them, so the limiter need not turn the whole
//! music down for them.
//!
//! **Why.** A look-ahead limiter answers every peak with a dip of the gain, and the music
//! around the peak goes down with it: at club loudness (-9 to -7 LUFS) on a mix with sharp
//! drums that is 10 dB and more of dips, heard as pumping, and most of the drive is spent on
//! turning the song down. Clipping the tip of a short transient instead changes a few
//! milliseconds of one waveform and nothing around it. Clipping everything loud, though,
//! distorts sustained bass and chords, which is why mastering engineers clip drums and not
//! the mix (and why Ozone's and Pro-L 2's loud modes clip before they limit). So the clipper
//! here only acts on what stands more than `crest_db` above the music's own level: the
//! level is the RMS over [`LEVEL_WINDOW_MS`] centred on the sample (so a transient is judged
//! against what comes after it too), and the clip threshold is that level plus `crest_db`,
//! never below the limiter's threshold (the limiter would hold anything under it for free)
//! and never above it by more than `cap_db` (so dense music, where nothing stands out, can
//! still get as loud as a club master needs).
//!
//! The numbers are measured, not guessed: `cargo xtask bench-quality` masters the shared
//! mixes at -14, -9 and -7 LUFS beside ffmpeg's alimiter and loudnorm and reports the pumping
//! index and the fast residual (`render::quality`). A fixed threshold traded one for the
//! other (clipping enough to stop the pumping left more fast residual than alimiter's); the
//! level-relative threshold is what got both under alimiter's at -9 LUFS.
//!
//! **How.** Clipping makes harmonics above Nyquist, which fold back as inharmonic aliases
//! unless the clipper runs oversampled. The signal is interpolated 4x (2x above 100 kHz) with
//! a Kaiser-windowed sinc, each oversampled point over the knee is bent by a soft curve (a
//! quadratic knee into a hard limit, continuous in value and slope), and only the
//! *difference* the curve made is band-limited back to the input rate (the same windowed
//! sinc, as a decimation filter) and added to the delayed input. Where nothing is over the
//! knee the difference is exactly zero, so the stage is exactly a delay: neutral is
//! transparent, bit for bit, and the output differs from the input only around clipped
//! tips. The idea of clipping the oversampled signal and filtering what the clip removed is
//! that of iterative clipping and filtering for OFDM (Armstrong, "Peak-to-average power
//! reduction for OFDM by repeated clipping and frequency domain filtering", Electronics
//! Letters 38(5), 2002), here done once, with the limiter after it catching what the
//! filtering lets back over.
//!
//! **Contracts.** Sample by sample with fixed look-ahead, so block-size invariant; its latency
//! ([`TransientClipper::latency_samples`]) is fixed per sample rate whether it clips or not;
//! nothing allocates after `new`.

use super::units::db_to_gain;
use super::windowed_sinc::{kaiser, sinc};

/// The window over which the music's level is measured, ms, centred on the sample judged.
/// 40 ms spans a beat's transient and its body; 15 ms judged drums against themselves and
/// clipped less, 100 ms judged them against the bar and clipped sustained notes
/// (bench-quality, -9 LUFS). The clipper looks half of it ahead, which is most of its latency.
pub const LEVEL_WINDOW_MS: f32 = 40.0;
/// Interpolation and decimation kernels reach this many input samples to either side: a cut
/// spreads this far past the samples it was made on, so after the input stops the output
/// can carry a correction for this many samples more than the latency.
pub const HALF_TAPS: usize = 8;
const TAPS: usize = 2 * HALF_TAPS;
/// Kaiser β of both kernels: about 70 dB of stopband, plenty for a path that only carries
/// what the clip removed (itself tens of dB under the music).
const KAISER_BETA: f64 = 7.0;
/// The knee: the curve starts bending this far under the clip threshold, dB.
const KNEE_DB: f32 = 1.0;
/// Points between two samples are interpolated only where one of the two is within this
/// factor (+2 dB) of the knee. The reconstructed waveform of music rarely rises more than a
/// dB over its samples, and anything the clipper misses the limiter after it still holds, so
/// this is a gate for speed, not for safety: without it the oversampling ran at every sample
/// of a loud master (a bound from the whole ±8-sample window is 1.6 times the largest sample).
const INTERSAMPLE_RISE: f32 = 1.26;
/// A clipped difference under this (-400 dB) is left out. The kernels' smallest non-zero
/// coefficient is above 1e-5, so every product added to the correction stays above 1e-25
/// and every sum of them is 0 or far above the subnormal range.
const NEGLIGIBLE_DIFFERENCE: f32 = 1e-20;
/// A frame's mean square under this (a level of -300 dBFS) is silence to the level window;
/// the clip threshold never goes under the ceiling's, so it cannot matter there.
const ENERGY_FLOOR: f64 = 1e-30;
/// Frames taken in, judged and handed out together (see [`TransientClipper::process`]).
pub const PASS_FRAMES: usize = 256;

/// How the clipper judges peaks (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClipShape {
    /// A peak is clipped where it stands more than this above the music's level, dB.
    pub crest_db: f32,
    /// Whatever the level, nothing passes more than this above the limiter's threshold, dB.
    pub cap_db: f32,
}

/// The oversampling factor at a sample rate.
fn factor_for(sample_rate: f32) -> usize {
    if sample_rate <= 100_000.0 {
        4
    } else {
        2
    }
}

#[derive(Debug, Clone)]
pub struct TransientClipper {
    factor: usize,
    /// Interpolation, phases 1..factor: the coefficients for samples `c - HALF_TAPS + 1 ..=
    /// c + HALF_TAPS` of the point `c + k/factor`.
    up: Vec<[f32; TAPS]>,
    /// Decimation, phases 0..factor: what a unit difference at `c + k/factor` adds to the
    /// output samples `c - HALF_TAPS + 1 ..= c + HALF_TAPS`.
    down: Vec<[f32; TAPS]>,
    level_window: usize,
    lookahead: usize,
    latency: usize,
    /// Per channel, the input twice over (`ring` apart), so every window is one slice.
    history: Vec<Vec<f32>>,
    /// Per frame, the largest magnitude over the channels.
    magnitude: Vec<f32>,
    /// Per frame, the mean square over the channels (one copy), and their running sum over
    /// the level window.
    energy: Vec<f64>,
    energy_sum: f64,
    /// The mean squares of the pass being taken in, before they enter the level window.
    frame_energy: Vec<f64>,
    /// Per channel, what the clipped differences add to each output sample still to leave.
    correction: Vec<Vec<f32>>,
    ring: usize,
    /// Frames taken in since `reset`.
    clock: usize,
    /// The largest ratio of a point's magnitude to its clipped magnitude since it was last
    /// read (1: nothing clipped), for the meters.
    deepest_cut: f32,
}

impl TransientClipper {
    /// Allocates for up to `channels` channels at `sample_rate`.
    pub fn new(sample_rate: f32, channels: usize) -> Self {
        let factor = factor_for(sample_rate);
        let window = kaiser(KAISER_BETA);
        // The interpolator: a windowed sinc over ±HALF_TAPS input samples. Phase 0 is the
        // sample itself (the sinc is zero at every other integer), so it needs no taps.
        let kernel = |t: f64| sinc(t) * window(t / HALF_TAPS as f64);
        let up: Vec<[f32; TAPS]> = (1..factor)
            .map(|k| {
                let frac = k as f64 / factor as f64;
                std::array::from_fn(|i| {
                    let sample = i as f64 - (HALF_TAPS - 1) as f64;
                    kernel(frac - sample) as f32
                })
            })
            .collect();
        // The decimator: the same windowed sinc at the oversampled rate (cut-off at the input
        // rate's Nyquist frequency), 1/factor so a constant difference passes at unit gain.
        let down: Vec<[f32; TAPS]> = (0..factor)
            .map(|k| {
                let frac = k as f64 / factor as f64;
                std::array::from_fn(|i| {
                    let sample = i as f64 - (HALF_TAPS - 1) as f64;
                    (kernel(sample - frac) / factor as f64) as f32
                })
            })
            .collect();
        let level_window = ((LEVEL_WINDOW_MS * 0.001 * sample_rate).round() as usize).max(2) & !1;
        let lookahead = (level_window / 2).max(HALF_TAPS);
        // A point at `c` changes output samples up to `c - HALF_TAPS + 1`; that one is final
        // once `c` is judged, `lookahead` frames after it came in.
        let latency = lookahead + HALF_TAPS - 1;
        // A pass in flight, its level window and every sample whose corrections are pending.
        let ring = (level_window + latency + TAPS + PASS_FRAMES + 1).next_power_of_two();
        let channels = channels.max(1);
        let mut clipper = Self {
            factor,
            up,
            down,
            level_window,
            lookahead,
            latency,
            history: vec![vec![0.0; 2 * ring]; channels],
            magnitude: vec![0.0; ring],
            energy: vec![0.0; ring],
            energy_sum: 0.0,
            frame_energy: vec![0.0; PASS_FRAMES],
            correction: vec![vec![0.0; ring]; channels],
            ring,
            clock: 0,
            deepest_cut: 1.0,
        };
        clipper.reset();
        clipper
    }

    /// Silence in, nothing pending.
    pub fn reset(&mut self) {
        for h in &mut self.history {
            h.fill(0.0);
        }
        for c in &mut self.correction {
            c.fill(0.0);
        }
        self.magnitude.fill(0.0);
        self.energy.fill(0.0);
        self.energy_sum = 0.0;
        // Start a full ring in, so every index below stays positive.
        self.clock = self.ring;
        self.deepest_cut = 1.0;
    }

    /// The deepest cut since the last call, dB (0 or negative), and starts again.
    pub fn take_cut_db(&mut self) -> f32 {
        let ratio = std::mem::replace(&mut self.deepest_cut, 1.0);
        -20.0 * ratio.log10()
    }

    /// The delay from input to output, in samples; the same whether or not it clips.
    pub fn latency_samples(&self) -> usize {
        self.latency
    }

    /// The oversampling factor at this rate.
    pub fn oversampling(&self) -> usize {
        self.factor
    }

    /// Clips `channels` in place, delayed by the latency. `threshold` is the limiter's
    /// (linear); `shape` `None` only delays. Channels beyond those prepared for pass through.
    ///
    /// Works in passes of up to [`PASS_FRAMES`] frames: the pass is taken into the history,
    /// every frame of it is judged in order, then the pass's output leaves. Judging frame `n`
    /// only corrects output samples that leave at frame `n` or later (see `new`), so this is
    /// exactly the frame-by-frame order, and the copies in and out run as plain slice loops.
    pub fn process(
        &mut self,
        channels: &mut [&mut [f32]],
        shape: Option<ClipShape>,
        threshold: f32,
    ) {
        let frames = channels.first().map_or(0, |c| c.len());
        let n_ch = channels.len().min(self.history.len());
        let judge = shape.map(|s| Judge::new(s, threshold, self.level_window));
        let mut start = 0;
        while start < frames {
            let n = (frames - start).min(PASS_FRAMES);
            self.take_in(channels, n_ch, start, n);
            self.judge_pass(judge.as_ref(), n_ch, n);
            self.hand_out(channels, n_ch, start, n);
            self.clock += n;
            start += n;
        }
    }

    /// Copies frames `start..start + n` of each channel into the history (both copies), and
    /// each frame's largest magnitude and mean square into theirs.
    fn take_in(&mut self, channels: &[&mut [f32]], n_ch: usize, start: usize, n: usize) {
        let mask = self.ring - 1;
        let at = self.clock & mask;
        for (h, ch) in self.history.iter_mut().zip(channels.iter()).take(n_ch) {
            let input = &ch[start..start + n];
            // `at + n` never passes the second copy's end (PASS_FRAMES < ring), so each copy
            // is one slice; the part of the second copy past `2 * ring` wraps to the first.
            let (first, second) = h.split_at_mut(self.ring);
            let upper = (self.ring - at).min(n);
            first[at..at + upper].copy_from_slice(&input[..upper]);
            first[..n - upper].copy_from_slice(&input[upper..]);
            second[at..at + upper].copy_from_slice(&input[..upper]);
            second[..n - upper].copy_from_slice(&input[upper..]);
        }
        for i in 0..n {
            let slot = (at + i) & mask;
            let mut energy = 0.0f64;
            let mut magnitude = 0.0f32;
            for h in self.history.iter().take(n_ch) {
                let x = h[slot];
                energy += f64::from(x) * f64::from(x);
                magnitude = magnitude.max(x.abs());
            }
            self.magnitude[slot] = magnitude;
            // A frame's energy under ENERGY_FLOOR counts as none (see `judge_pass`).
            let energy = energy / n_ch.max(1) as f64;
            self.frame_energy[i] = if energy < ENERGY_FLOOR { 0.0 } else { energy };
        }
    }

    /// Moves the level window over the pass's frames and judges, at each, the frame half a
    /// window back.
    fn judge_pass(&mut self, judge: Option<&Judge>, n_ch: usize, n: usize) {
        let mask = self.ring - 1;
        for i in 0..n {
            let frame = self.clock + i;
            let at = frame & mask;
            let energy = self.frame_energy[i];
            let leaving = (frame - self.level_window) & mask;
            self.energy_sum += energy - self.energy[leaving];
            // A running sum under ENERGY_FLOOR is rounding residue (every entry is 0 or over
            // it): the squares of a tail decaying toward silence would otherwise sit in the
            // state far under anything f32 can hold.
            if self.energy_sum < ENERGY_FLOOR {
                self.energy_sum = 0.0;
            }
            self.energy[at] = energy;
            if frame.is_multiple_of(self.level_window) {
                // Rebuilt once per window, so rounding never accumulates.
                self.energy_sum = (0..self.level_window)
                    .map(|k| self.energy[(frame - k) & mask])
                    .sum();
            }
            if let Some(judge) = judge {
                self.clip_at(frame - self.lookahead, judge, n_ch);
            }
        }
    }

    /// Writes the pass's output: each sample as it came in `latency` frames before, plus what
    /// the clipping took from it.
    fn hand_out(&mut self, channels: &mut [&mut [f32]], n_ch: usize, start: usize, n: usize) {
        let mask = self.ring - 1;
        let from = (self.clock - self.latency) & mask;
        for (c, (h, corr)) in self
            .history
            .iter()
            .zip(self.correction.iter_mut())
            .enumerate()
            .take(n_ch)
        {
            let out = &mut channels[c][start..start + n];
            // The history's second copy makes the delayed input one slice; the correction
            // ring is read in at most two.
            let delayed = &h[from..from + n];
            let upper = (self.ring - from).min(n);
            let (head, tail) = out.split_at_mut(upper);
            let (corr_tail, corr_head) = corr[..self.ring].split_at_mut(from);
            for ((o, &x), k) in head
                .iter_mut()
                .zip(&delayed[..upper])
                .zip(corr_head.iter_mut())
            {
                *o = x + *k;
                *k = 0.0;
            }
            for ((o, &x), k) in tail
                .iter_mut()
                .zip(&delayed[upper..])
                .zip(corr_tail.iter_mut())
            {
                *o = x + *k;
                *k = 0.0;
            }
        }
    }

    /// Clips the points from frame `c` (an absolute count) up to the next frame: those over
    /// the knee are bent, and what the bending took is spread over the output samples it
    /// reaches.
    #[inline]
    fn clip_at(&mut self, c: usize, judge: &Judge, n_ch: usize) {
        let mask = self.ring - 1;
        let near = self.magnitude[c & mask].max(self.magnitude[(c + 1) & mask]) * INTERSAMPLE_RISE;
        if near <= judge.floor_knee {
            return;
        }
        let (knee, limit) = judge.at(self.energy_sum);
        if near <= knee {
            return;
        }
        // The window of samples every point between c and c+1 is interpolated from, and the
        // first output sample the points reach.
        let first = (c + 1 - HALF_TAPS) & mask;
        let target = first;
        for (h, corr) in self
            .history
            .iter()
            .zip(self.correction.iter_mut())
            .take(n_ch)
        {
            let window = &h[first..first + TAPS];
            for k in 0..self.factor {
                let u = if k == 0 {
                    window[HALF_TAPS - 1]
                } else {
                    dot(window, &self.up[k - 1])
                };
                let bent = bend(u, knee, limit);
                let d = bent - u;
                // Just over the knee the quadratic bend takes (a - knee)², which can be far
                // under -400 dB; spread over the kernel, such a difference would leave
                // subnormal numbers in the correction (slow, and what the chain keeps out).
                if d.abs() < NEGLIGIBLE_DIFFERENCE {
                    continue;
                }
                // |bent| >= knee > 0 wherever d is not zero.
                self.deepest_cut = self.deepest_cut.max(u.abs() / bent.abs());
                let kernel = &self.down[k];
                if target + TAPS <= self.ring {
                    // One slice: the compiler vectorises it.
                    for (o, &w) in corr[target..target + TAPS].iter_mut().zip(kernel) {
                        *o += d * w;
                    }
                } else {
                    for (j, &w) in kernel.iter().enumerate() {
                        corr[(target + j) & mask] += d * w;
                    }
                }
            }
        }
    }
}

/// The clip threshold's pieces for one block's settings.
struct Judge {
    /// crest², over the window length: multiplies the energy sum into the squared threshold.
    crest_sq_per_frame: f64,
    threshold: f32,
    cap: f32,
    knee_ratio: f32,
    /// The knee at the lowest threshold: no point under it is ever touched.
    floor_knee: f32,
}

impl Judge {
    fn new(shape: ClipShape, threshold: f32, window: usize) -> Self {
        let crest = db_to_gain(shape.crest_db) as f64;
        let knee_ratio = db_to_gain(-KNEE_DB);
        Self {
            crest_sq_per_frame: crest * crest / window as f64,
            threshold,
            cap: threshold * db_to_gain(shape.cap_db.max(0.0)),
            knee_ratio,
            floor_knee: threshold * knee_ratio,
        }
    }

    /// The knee and the limit for a level window holding `energy_sum`.
    #[inline]
    fn at(&self, energy_sum: f64) -> (f32, f32) {
        let level = ((energy_sum.max(0.0) * self.crest_sq_per_frame).sqrt()) as f32;
        let limit = level.clamp(self.threshold, self.cap.max(self.threshold));
        (limit * self.knee_ratio, limit)
    }
}

/// The clip curve: the identity up to `knee`, then a quadratic bend whose slope falls from 1
/// to 0 as it reaches `limit`, then `limit` (continuous in value and slope, so the clipped
/// waveform has no corner to ring at). Odd: the same on both polarities.
#[inline]
fn bend(u: f32, knee: f32, limit: f32) -> f32 {
    let a = u.abs();
    if a <= knee {
        return u;
    }
    let span = 2.0 * (limit - knee);
    let bent = if a >= knee + span || span <= 0.0 {
        limit
    } else {
        let over = a - knee;
        a - over * over / (2.0 * span)
    };
    bent.copysign(u)
}

/// A dot product in independent partial sums the compiler keeps in one vector register.
#[inline]
fn dot(x: &[f32], c: &[f32; TAPS]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (xs, cs) in x.chunks_exact(8).zip(c.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += xs[k] * cs[k];
        }
    }
    acc.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(clipper: &mut TransientClipper, x: &[f32], shape: Option<ClipShape>) -> Vec<f32> {
        let mut y = x.to_vec();
        clipper.process(&mut [&mut y[..]], shape, db_to_gain(-1.1));
        y
    }

    #[test]
    fn the_bend_is_continuous_and_ends_at_the_limit() {
        let (knee, limit) = (0.8f32, 1.0f32);
        assert_eq!(bend(0.5, knee, limit), 0.5);
        assert_eq!(bend(-0.8, knee, limit), -0.8);
        assert!((bend(0.8001, knee, limit) - 0.8001).abs() < 1e-6);
        assert_eq!(bend(1.2, knee, limit), 1.0);
        assert_eq!(bend(-5.0, knee, limit), -1.0);
        let mut last = 0.0;
        for k in 0..2000 {
            let u = k as f32 * 0.001;
            let y = bend(u, knee, limit);
            assert!(y >= last && y <= limit, "monotonic at {u}");
            last = y;
        }
    }

    #[test]
    fn without_clipping_it_is_an_exact_delay() {
        let mut c = TransientClipper::new(48_000.0, 1);
        let latency = c.latency_samples();
        let x: Vec<f32> = (0..20_000).map(|n| 0.3 * (n as f32 * 0.01).sin()).collect();
        let shape = ClipShape {
            crest_db: 6.5,
            cap_db: 6.0,
        };
        for s in [None, Some(shape)] {
            c.reset();
            let y = run(&mut c, &x, s);
            assert!(y[..latency].iter().all(|&v| v == 0.0));
            assert_eq!(&y[latency..], &x[..x.len() - latency]);
        }
    }

    #[test]
    fn a_lone_transient_is_clipped_and_the_music_around_it_is_not() {
        let rate = 48_000.0;
        let mut c = TransientClipper::new(rate, 1);
        let latency = c.latency_samples();
        // A steady tone at -12 dBFS with a click 16 dB over it.
        let mut x: Vec<f32> = (0..48_000)
            .map(|n| 0.25 * (n as f32 * 2.0 * std::f32::consts::PI * 220.0 / rate).sin())
            .collect();
        for (k, v) in x[24_000..24_020].iter_mut().enumerate() {
            *v += 1.5 * (1.0 - k as f32 / 20.0);
        }
        let shape = ClipShape {
            crest_db: 6.5,
            cap_db: 6.0,
        };
        let y = run(&mut c, &x, Some(shape));
        let out = |n: usize| y[n + latency];
        // The click's tip is gone.
        let tip = (24_000..24_020)
            .map(|n| out(n).abs())
            .fold(0.0f32, f32::max);
        assert!(tip < 1.2, "{tip}");
        // Away from it, the tone is untouched to the bit.
        for n in (1000..23_900).chain(24_100..47_000) {
            assert_eq!(out(n), x[n], "at {n}");
        }
    }

    #[test]
    fn block_splits_give_the_same_output() {
        let x: Vec<f32> = (0..30_000)
            .map(|n| {
                let t = n as f32 / 48_000.0;
                0.3 * (t * 300.0).sin() + if n % 7000 < 30 { 1.8 } else { 0.0 }
            })
            .collect();
        let shape = Some(ClipShape {
            crest_db: 4.0,
            cap_db: 3.0,
        });
        let mut whole = TransientClipper::new(48_000.0, 1);
        let reference = run(&mut whole, &x, shape);
        for block in [1, 7, 64, 1000] {
            let mut c = TransientClipper::new(48_000.0, 1);
            let mut y = x.clone();
            for chunk in y.chunks_mut(block) {
                c.process(&mut [chunk], shape, db_to_gain(-1.1));
            }
            assert_eq!(y, reference, "block {block}");
        }
        assert_ne!(reference[..29_000], x[..29_000]);
    }
}
