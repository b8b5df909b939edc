//! What mastering cost the music: the master measured against its mix at equal loudness.
//!
//! These are the definitions of the project's independent quality check,
//! `../shared/tools/quality_eval.py`, written again here so that tests and
//! `cargo xtask bench-quality` measure exactly what it measures without Python:
//!
//! - the **pumping index**: the standard deviation, in LU, of the master's momentary loudness
//!   (ITU-R BS.1770-4, 400 ms windows every 100 ms) minus the mix's, over the windows where
//!   the mix is within 30 LU of its loudest. A pure gain change reads 0; a limiter or
//!   compressor that moves the level around reads more.
//! - the **fast residual**: what is left, in dB relative to the master, after the best single
//!   gain of each 20 ms frame (frames overlap by half) is taken out of the master against the
//!   mix. Slow gain changes are excluded by construction; clipping and fast limiter
//!   distortion remain. A pure gain change reads about -150 dB (the float's own rounding).
//! - the **16x true peak**: the largest magnitude of the master oversampled 16 times.
//!
//! The master is first aligned with the mix by cross-correlating their mid signals over the
//! first 10 s (lags up to 0.1 s), as the script does, so a tool with latency is not scored on
//! its delay.

use ebur128::{EbuR128, Mode};
use realfft::RealFftPlanner;

/// BS.1770 momentary loudness: the window and the step between readings, s.
const MOMENTARY_WINDOW_S: f64 = 0.4;
const MOMENTARY_HOP_S: f64 = 0.1;
/// Windows quieter than the mix's loudest by more than this are left out of the pumping index.
const PUMPING_GATE_LU: f64 = 30.0;
/// The fast residual's frame: 20 ms, stepped by half of it.
const RESIDUAL_FRAMES_PER_S: u32 = 50;
/// The alignment looks at most this far either way, s, over the first [`ALIGN_SPAN_S`].
const ALIGN_MAX_LAG_S: f64 = 0.1;
const ALIGN_SPAN_S: f64 = 10.0;

/// What one master cost its mix.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quality {
    /// Integrated loudness of the master (BS.1770-4, gated), LUFS.
    pub integrated_lufs: f64,
    /// Its 16x oversampled true peak, dBTP.
    pub true_peak_16x_dbtp: f64,
    /// Peak to loudness ratio: the true peak minus the integrated loudness, dB.
    pub plr_db: f64,
    pub pumping_lu: f64,
    pub fast_residual_db: f64,
    /// How many frames the master lags the mix (positive: the master is late).
    pub lag_frames: isize,
}

/// Measures `master` against `mix`, both planar at `rate` (1 or 2 channels, same count).
pub fn judge(mix: &[Vec<f32>], master: &[Vec<f32>], rate: u32) -> Quality {
    let lag = align_lag(mix, master, rate);
    let (x, y) = aligned(mix, master, lag);
    let integrated_lufs = integrated_lufs(master, rate);
    let true_peak_16x_dbtp = true_peak_16x_dbtp(master);
    Quality {
        integrated_lufs,
        true_peak_16x_dbtp,
        plr_db: true_peak_16x_dbtp - integrated_lufs,
        pumping_lu: pumping_index_lu(&x, &y, rate),
        fast_residual_db: fast_residual_db(&x, &y, rate),
        lag_frames: lag,
    }
}

/// The mix and the master from where both hold the same moment, cut to the same length.
fn aligned<'a>(
    mix: &'a [Vec<f32>],
    master: &'a [Vec<f32>],
    lag: isize,
) -> (Vec<&'a [f32]>, Vec<&'a [f32]>) {
    let (skip_mix, skip_master) = if lag >= 0 {
        (0, lag as usize)
    } else {
        ((-lag) as usize, 0)
    };
    let len = |c: &[Vec<f32>], skip: usize| {
        c.iter()
            .map(|p| p.len().saturating_sub(skip))
            .min()
            .unwrap_or(0)
    };
    let n = len(mix, skip_mix).min(len(master, skip_master));
    (
        mix.iter().map(|c| &c[skip_mix..skip_mix + n]).collect(),
        master
            .iter()
            .map(|c| &c[skip_master..skip_master + n])
            .collect(),
    )
}

/// Integrated loudness, mono counted as dual mono.
fn integrated_lufs(channels: &[Vec<f32>], rate: u32) -> f64 {
    let planes: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    loudness_meter(&planes, rate, Mode::I, |_, _| {})
        .and_then(|m| m.loudness_global().ok())
        .unwrap_or(f64::NEG_INFINITY)
}

/// Feeds `planes` to a fresh ebur128 meter in [`MOMENTARY_HOP_S`] steps, calling `each` with
/// the meter and the frames fed so far after each step.
fn loudness_meter(
    planes: &[&[f32]],
    rate: u32,
    mode: Mode,
    mut each: impl FnMut(&EbuR128, usize),
) -> Option<EbuR128> {
    let planes: Vec<&[f32]> = match planes {
        [mono] => vec![mono, mono],
        _ => planes.to_vec(),
    };
    let frames = planes.iter().map(|p| p.len()).min().unwrap_or(0);
    let mut meter = EbuR128::new(planes.len() as u32, rate, mode).ok()?;
    let hop = ((rate as f64 * MOMENTARY_HOP_S).round() as usize).max(1);
    let mut at = 0;
    while at < frames {
        let end = (at + hop).min(frames);
        let block: Vec<&[f32]> = planes.iter().map(|p| &p[at..end]).collect();
        meter.add_frames_planar_f32(&block).ok()?;
        each(&meter, end);
        at = end;
    }
    Some(meter)
}

/// Momentary loudness every 100 ms, for each full 400 ms window that ends before the end.
fn momentary_series(planes: &[&[f32]], rate: u32) -> Vec<f64> {
    let window = (rate as f64 * MOMENTARY_WINDOW_S).round() as usize;
    let frames = planes.iter().map(|p| p.len()).min().unwrap_or(0);
    let mut series = Vec::new();
    loudness_meter(planes, rate, Mode::M, |m, fed| {
        if fed >= window && fed < frames {
            series.push(m.loudness_momentary().unwrap_or(f64::NEG_INFINITY));
        }
    });
    series
}

/// The pumping index of `master` against `mix` (aligned, equal length), LU.
pub fn pumping_index_lu(mix: &[&[f32]], master: &[&[f32]], rate: u32) -> f64 {
    let mx = momentary_series(mix, rate);
    let my = momentary_series(master, rate);
    let loudest = mx.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let differences: Vec<f64> = mx
        .iter()
        .zip(&my)
        .filter(|(x, y)| **x > loudest - PUMPING_GATE_LU && y.is_finite())
        .map(|(x, y)| y - x)
        .collect();
    if differences.is_empty() {
        return 0.0;
    }
    let n = differences.len() as f64;
    let mean = differences.iter().sum::<f64>() / n;
    (differences.iter().map(|d| (d - mean).powi(2)).sum::<f64>() / n).sqrt()
}

/// The fast residual of `master` against `mix` (aligned, equal length), dB re the master.
pub fn fast_residual_db(mix: &[&[f32]], master: &[&[f32]], rate: u32) -> f64 {
    let frame = (rate / RESIDUAL_FRAMES_PER_S) as usize;
    let hop = (frame / 2).max(1);
    let n = mix.iter().chain(master).map(|p| p.len()).min().unwrap_or(0);
    let (mut residual, mut signal) = (0.0f64, 0.0f64);
    let mut at = 0;
    while at + frame < n {
        let (mut xx, mut xy, mut yy) = (0.0f64, 0.0f64, 0.0f64);
        for (x, y) in mix.iter().zip(master) {
            for (&a, &b) in x[at..at + frame].iter().zip(&y[at..at + frame]) {
                let (a, b) = (a as f64, b as f64);
                xx += a * a;
                xy += a * b;
                yy += b * b;
            }
        }
        if xx > 1e-12 {
            // |y - g x|² at the least-squares g = xy / xx.
            residual += (yy - xy * xy / xx).max(0.0);
            signal += yy;
        }
        at += hop;
    }
    10.0 * (residual / signal.max(f64::MIN_POSITIVE) + 1e-20).log10()
}

/// How many frames `master` lags `mix`: the peak of the magnitude of the cross-correlation of
/// their mid signals over the first [`ALIGN_SPAN_S`], within ±[`ALIGN_MAX_LAG_S`]. Computed
/// with one real FFT of each instead of a dot product per lag.
pub fn align_lag(mix: &[Vec<f32>], master: &[Vec<f32>], rate: u32) -> isize {
    let mid = |c: &[Vec<f32>]| -> Vec<f64> {
        let first = &c[0];
        let last = &c[c.len() - 1];
        first
            .iter()
            .zip(last)
            .map(|(a, b)| *a as f64 + *b as f64)
            .collect()
    };
    let (a, b) = (mid(master), mid(mix));
    let max_lag = (rate as f64 * ALIGN_MAX_LAG_S) as usize;
    let span = a
        .len()
        .min(b.len())
        .min((rate as f64 * ALIGN_SPAN_S) as usize);
    if span <= 2 * max_lag + 1 {
        return 0;
    }
    // c[L] = Σ_i a[max_lag + L + i] · seg[i], seg = b[max_lag .. span - max_lag].
    let seg = &b[max_lag..span - max_lag];
    let len = (span + seg.len()).next_power_of_two();
    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(len);
    let inverse = planner.plan_fft_inverse(len);
    let spectrum = |x: &[f64]| {
        let mut buf = vec![0.0; len];
        buf[..x.len()].copy_from_slice(x);
        let mut out = forward.make_output_vec();
        let _ = forward.process(&mut buf, &mut out);
        out
    };
    let fa = spectrum(&a[..span]);
    let fs = spectrum(seg);
    let mut product: Vec<_> = fa.iter().zip(&fs).map(|(x, y)| x * y.conj()).collect();
    let mut corr = vec![0.0; len];
    if inverse.process(&mut product, &mut corr).is_err() {
        return 0;
    }
    // corr[k] = Σ_i a[k + i] seg[i]; lag L sits at k = max_lag + L.
    let mut best = (0isize, f64::NEG_INFINITY);
    for lag in -(max_lag as isize) + 1..max_lag as isize {
        let value = corr[(max_lag as isize + lag) as usize].abs();
        if value > best.1 {
            best = (lag, value);
        }
    }
    best.0
}

/// Phases of the 16x check, and taps per phase: a Kaiser-windowed sinc (β = 8) over ±64
/// samples, flat within 0.001 dB to 0.96 of Nyquist, so it reads the band-limited waveform
/// itself (the same kernel as the limiter's ceiling tests' reference).
const OVERSAMPLING: usize = 16;
const TAPS: usize = 128;
const KAISER_BETA: f64 = 8.0;

/// The largest magnitude of `channels` oversampled 16 times, dBTP.
pub fn true_peak_16x_dbtp(channels: &[Vec<f32>]) -> f64 {
    let phases = kernel_16x();
    let mut peak = 0.0f32;
    for c in channels {
        peak = peak.max(c.iter().fold(0.0f32, |m, v| m.max(v.abs())));
        // Padded with the silence before and after the file, as a player reconstructs it.
        let mut padded = vec![0.0f32; c.len() + TAPS];
        padded[TAPS / 2 - 1..TAPS / 2 - 1 + c.len()].copy_from_slice(c);
        for window in padded.windows(TAPS) {
            for taps in &phases {
                peak = peak.max(dot(window, taps).abs());
            }
        }
    }
    20.0 * (peak as f64).log10()
}

/// The 15 phases between two samples, each for the window `n - 63 ..= n + 64`.
fn kernel_16x() -> Vec<[f32; TAPS]> {
    let i0 = |x: f64| {
        // Abramowitz & Stegun 9.6.12.
        let (mut sum, mut term) = (1.0f64, 1.0f64);
        for k in 1..64 {
            term *= (x / 2.0 / k as f64).powi(2);
            sum += term;
        }
        sum
    };
    (1..OVERSAMPLING)
        .map(|k| {
            let frac = k as f64 / OVERSAMPLING as f64;
            std::array::from_fn(|i| {
                let t = frac + (TAPS / 2 - 1) as f64 - i as f64;
                let r = t / (TAPS / 2) as f64;
                let w = if r.abs() >= 1.0 {
                    0.0
                } else {
                    i0(KAISER_BETA * (1.0 - r * r).sqrt()) / i0(KAISER_BETA)
                };
                let pt = std::f64::consts::PI * t;
                (w * pt.sin() / pt) as f32
            })
        })
        .collect()
}

/// A dot product in eight independent sums, which the compiler keeps in one vector register.
fn dot(x: &[f32], taps: &[f32; TAPS]) -> f32 {
    let mut acc = [0.0f32; 8];
    for (xs, ts) in x.chunks_exact(8).zip(taps.chunks_exact(8)) {
        for k in 0..8 {
            acc[k] += xs[k] * ts[k];
        }
    }
    acc.iter().sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn music(frames: usize, rate: u32) -> Vec<Vec<f32>> {
        let mut seed = 7u32;
        let mut noise = move || {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        };
        (0..2)
            .map(|c| {
                (0..frames)
                    .map(|n| {
                        let t = n as f32 / rate as f32;
                        // Bars of loud and quiet, so loudness moves.
                        let bar = if (t * 0.5).fract() < 0.5 { 1.0 } else { 0.3 };
                        bar * (0.4 * (t * 110.0 * std::f32::consts::TAU + c as f32).sin()
                            + 0.2 * noise())
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn a_pure_gain_costs_nothing() {
        let rate = 48_000;
        let mix = music(10 * rate as usize, rate);
        let master: Vec<Vec<f32>> = mix
            .iter()
            .map(|c| c.iter().map(|x| x * 0.5).collect())
            .collect();
        let q = judge(&mix, &master, rate);
        assert_eq!(q.lag_frames, 0);
        assert!(q.pumping_lu < 1e-6, "{q:?}");
        assert!(q.fast_residual_db < -130.0, "{q:?}");
    }

    #[test]
    fn a_delay_is_found_and_not_scored() {
        let rate = 48_000;
        let mix = music(10 * rate as usize, rate);
        let late: Vec<Vec<f32>> = mix
            .iter()
            .map(|c| {
                std::iter::repeat_n(0.0, 239)
                    .chain(c.iter().copied())
                    .collect()
            })
            .collect();
        let q = judge(&mix, &late, rate);
        assert_eq!(q.lag_frames, 239);
        assert!(q.fast_residual_db < -130.0, "{q:?}");
        let early: Vec<Vec<f32>> = mix.iter().map(|c| c[100..].to_vec()).collect();
        assert_eq!(judge(&mix, &early, rate).lag_frames, -100);
    }

    #[test]
    fn slow_and_fast_gain_changes_land_in_their_own_figure() {
        let rate = 48_000;
        let mix = music(10 * rate as usize, rate);
        let gained = |gain: &dyn Fn(f32) -> f32| -> Vec<Vec<f32>> {
            mix.iter()
                .map(|c| {
                    c.iter()
                        .enumerate()
                        .map(|(n, x)| x * gain(n as f32 / rate as f32))
                        .collect()
                })
                .collect()
        };
        // 3 dB up and down once every 4 s: pumping, hardly any fast residual.
        let slow = gained(&|t| 10f32.powf(1.5 * (t * std::f32::consts::TAU / 4.0).sin() / 20.0));
        let q = judge(&mix, &slow, rate);
        assert!(q.pumping_lu > 0.8 && q.pumping_lu < 1.3, "{q:?}");
        assert!(q.fast_residual_db < -50.0, "{q:?}");
        // Hard clipping: fast residual, little pumping.
        let clipped: Vec<Vec<f32>> = mix
            .iter()
            .map(|c| c.iter().map(|x| x.clamp(-0.25, 0.25)).collect())
            .collect();
        let q = judge(&mix, &clipped, rate);
        assert!(q.fast_residual_db > -30.0, "{q:?}");
    }

    #[test]
    fn the_16x_check_reads_between_the_samples() {
        // EBU Tech 3341 case 16's idea: a sine at fs/4 sampled at ±45°, 3 dB over its samples.
        // Faded in and out over 1000 samples, so the file's edges do not ring.
        let len = 8000;
        let x: Vec<f32> = (0..len)
            .map(|n| {
                let phase = std::f32::consts::FRAC_PI_2 * n as f32 + std::f32::consts::FRAC_PI_4;
                let edge = (n.min(len - 1 - n) as f32 / 1000.0).min(1.0);
                0.5 * phase.sin() * edge
            })
            .collect();
        let tp = true_peak_16x_dbtp(std::slice::from_ref(&x));
        let sample_peak = 20.0 * (0.5f64 * std::f64::consts::FRAC_1_SQRT_2).log10();
        assert!(
            (tp - (sample_peak + 3.01)).abs() < 0.02,
            "{tp} vs {sample_peak}"
        );
    }
}
