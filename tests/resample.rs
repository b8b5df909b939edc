//! Sample-rate conversion quality, measured: the passband is flat within ±0.05 dB to 20 kHz,
//! images and aliases are at least 100 dB down, the output is aligned with the input and has
//! the exact length. Sines (projected with a 7-term Blackman-Harris window) and sweeps, for
//! every conversion the deliverables need.
#![cfg(feature = "render")]

#[path = "common/spectrum.rs"]
mod spectrum;

use lathe::render::resample::{output_frames, resample};
use spectrum::{amplitude_spectrum, db, sine, tone, MAIN_LOBE_BINS};

/// Passband edge of the requirement.
const PASSBAND_HZ: f64 = 20_000.0;
/// Allowed passband deviation.
const PASSBAND_DB: f64 = 0.05;
/// Required rejection of images and aliases, relative to the tone that makes them.
const REJECTION_DB: f64 = 100.0;

/// The conversions the renderer makes: mix rate ↔ delivery rate, both families.
const PAIRS: [(u32, u32); 8] = [
    (44_100, 48_000),
    (48_000, 44_100),
    (44_100, 88_200),
    (48_000, 96_000),
    (88_200, 44_100),
    (96_000, 48_000),
    (96_000, 44_100),
    (192_000, 48_000),
];

/// Frames of the output that are steady state: the filter's start-up and tail (well under a
/// second at every rate) are cut off both ends.
fn steady(y: &[f32], rate: u32) -> (usize, &[f32]) {
    let skip = rate as usize / 2;
    (skip, &y[skip..y.len() - skip])
}

fn convert(x: Vec<f32>, from: u32, to: u32) -> Vec<f32> {
    let frames = x.len();
    let y = resample(&[x], from, to).unwrap().remove(0);
    assert_eq!(y.len(), output_frames(frames, from, to));
    y
}

#[test]
fn passband_is_flat_within_0_05_db_to_20_khz_and_aligned() {
    let mut worst_db = 0.0f64;
    let mut worst_shift = 0.0f64;
    for (from, to) in PAIRS {
        for freq in [20.0, 1_000.0, 10_000.0, 15_000.0, 19_500.0, PASSBAND_HZ] {
            let amp = 0.5;
            let x = sine(freq, amp, from as f64, 3 * from as usize);
            let y = convert(x, from, to);
            let (offset, part) = steady(&y, to);
            let (a, phase) = tone(part, offset, freq, to as f64);
            let dev = db(a / amp);
            // A phase error is a time shift; in output samples:
            let shift = phase / (2.0 * std::f64::consts::PI * freq) * to as f64;
            eprintln!("{from} -> {to}: {freq} Hz {dev:+.6} dB, shift {shift:+.6} samples");
            assert!(
                dev.abs() <= PASSBAND_DB,
                "{from} -> {to}: {freq} Hz at {dev:+.4} dB"
            );
            assert!(
                shift.abs() < 0.01,
                "{from} -> {to}: {freq} Hz shifted by {shift} samples"
            );
            worst_db = worst_db.max(dev.abs());
            worst_shift = worst_shift.max(shift.abs());
        }
    }
    eprintln!("worst passband deviation {worst_db:.6} dB, worst shift {worst_shift:.6} samples");
}

/// Largest spectral component of `y` other than the tone at `keep_hz` (if any), relative to
/// `amp`, in dB; and where it is.
fn worst_spur(y: &[f32], rate: u32, keep_hz: Option<f64>, amp: f64) -> (f64, f64) {
    let (_, part) = steady(y, rate);
    let n = part.len();
    let spec = amplitude_spectrum(part);
    let keep = keep_hz.map(|f| spectrum::bin_of(f, n, rate as f64));
    let mut worst = (f64::NEG_INFINITY, 0.0);
    for (k, &a) in spec.iter().enumerate().skip(MAIN_LOBE_BINS + 1) {
        if keep.is_some_and(|b| k.abs_diff(b) <= MAIN_LOBE_BINS + 1) {
            continue;
        }
        let level = db(a / amp);
        if level > worst.0 {
            worst = (level, spectrum::bin_hz(k, n, rate as f64));
        }
    }
    worst
}

#[test]
fn aliases_are_at_least_100_db_down_when_downsampling() {
    for (from, to) in PAIRS.into_iter().filter(|(f, t)| f > t) {
        let nyquist_out = to as f64 / 2.0;
        let nyquist_in = from as f64 / 2.0;
        // Just above the new Nyquist frequency (aliases land just below it), an octave up,
        // and near the old Nyquist frequency (aliases land in the bass).
        let tones = [
            nyquist_out + 100.0,
            to as f64 - PASSBAND_HZ,
            (nyquist_out * 1.5).min(nyquist_in - 500.0),
            nyquist_in - 500.0,
        ];
        for freq in tones {
            let amp = 0.9;
            let x = sine(freq, amp, from as f64, 2 * from as usize);
            let y = convert(x, from, to);
            let (level, at) = worst_spur(&y, to, None, amp);
            eprintln!("{from} -> {to}: {freq} Hz tone leaves {level:.1} dB at {at:.0} Hz");
            assert!(
                level <= -REJECTION_DB,
                "{from} -> {to}: a {freq} Hz tone aliases at {level:.1} dB ({at:.0} Hz)"
            );
        }
    }
}

#[test]
fn images_are_at_least_100_db_down_when_upsampling() {
    for (from, to) in PAIRS.into_iter().filter(|(f, t)| f < t) {
        for freq in [1_000.0, 10_000.0, 19_000.0, PASSBAND_HZ] {
            let amp = 0.9;
            let x = sine(freq, amp, from as f64, 2 * from as usize);
            let y = convert(x, from, to);
            let (level, at) = worst_spur(&y, to, Some(freq), amp);
            eprintln!("{from} -> {to}: {freq} Hz tone, largest other component {level:.1} dB at {at:.0} Hz");
            assert!(
                level <= -REJECTION_DB,
                "{from} -> {to}: a {freq} Hz tone images at {level:.1} dB ({at:.0} Hz)"
            );
        }
    }
}

/// An exponential sweep from `f1` to `f2` Hz over `secs` seconds, evaluated at time `t`:
/// sin(2π f1 L (e^{t/L} − 1)), L = secs / ln(f2/f1) (Farina's swept sine).
fn sweep_at(t: f64, f1: f64, f2: f64, secs: f64) -> f64 {
    let l = secs / (f2 / f1).ln();
    (2.0 * std::f64::consts::PI * f1 * l * ((t / l).exp() - 1.0)).sin()
}

fn sweep_freq(t: f64, f1: f64, f2: f64, secs: f64) -> f64 {
    f1 * (t * (f2 / f1).ln() / secs).exp()
}

/// Gain (dB) and residual (dB below the ideal) of the output against the ideal sweep, per
/// 10 ms window, with the sweep's frequency at each window's centre. The ideal is the same
/// sweep sampled at the output rate: a flat, aligned converter reproduces it exactly.
fn sweep_windows(from: u32, to: u32, f1: f64, f2: f64, secs: f64) -> Vec<(f64, f64, f64, f64)> {
    let amp = 0.5;
    let x: Vec<f32> = (0..(secs * from as f64) as usize)
        .map(|n| (amp * sweep_at(n as f64 / from as f64, f1, f2, secs)) as f32)
        .collect();
    let y = convert(x, from, to);
    let win = to as usize / 100;
    let margin = to as usize / 4;
    let mut out = Vec::new();
    let mut start = margin;
    while start + win + margin <= y.len() {
        let (mut yi, mut ii, mut yy) = (0.0, 0.0, 0.0);
        for (m, &s) in y[start..start + win].iter().enumerate() {
            let ideal = amp * sweep_at((start + m) as f64 / to as f64, f1, f2, secs);
            yi += s as f64 * ideal;
            ii += ideal * ideal;
            yy += s as f64 * s as f64;
        }
        let gain = yi / ii;
        let residual = (yy - 2.0 * gain * yi + gain * gain * ii).max(0.0) / ii;
        let rms_db = 10.0 * (yy / ii).max(1e-30).log10();
        let centre = (start + win / 2) as f64 / to as f64;
        out.push((
            sweep_freq(centre, f1, f2, secs),
            db(gain),
            10.0 * residual.max(1e-30).log10(),
            rms_db,
        ));
        start += win;
    }
    out
}

#[test]
fn a_sweep_to_20_khz_passes_flat_and_aligned() {
    for (from, to) in PAIRS {
        let windows = sweep_windows(from, to, 20.0, PASSBAND_HZ, 4.0);
        let worst_gain = windows.iter().map(|w| w.1.abs()).fold(0.0, f64::max);
        let worst_residual = windows.iter().map(|w| w.2).fold(f64::MIN, f64::max);
        eprintln!(
            "{from} -> {to}: sweep 20 Hz - 20 kHz, worst gain {worst_gain:.5} dB, worst residual \
             {worst_residual:.1} dB"
        );
        for (f, gain_db, residual_db, _) in &windows {
            assert!(
                gain_db.abs() <= PASSBAND_DB,
                "{from} -> {to}: {gain_db:+.4} dB at {f:.0} Hz"
            );
            // A misaligned output (or phase error) leaves a residual; -60 dB is 0.06 samples
            // at 20 kHz.
            assert!(
                *residual_db <= -60.0,
                "{from} -> {to}: residual {residual_db:.1} dB at {f:.0} Hz"
            );
        }
    }
}

#[test]
fn a_sweep_above_the_new_nyquist_frequency_is_rejected_by_100_db() {
    for (from, to) in PAIRS.into_iter().filter(|(f, t)| f > t) {
        let nyquist_out = to as f64 / 2.0;
        let f2 = from as f64 / 2.0 * 0.98;
        let windows = sweep_windows(from, to, PASSBAND_HZ, f2, 4.0);
        let stop: Vec<_> = windows
            .iter()
            .filter(|w| w.0 > nyquist_out + 300.0)
            .collect();
        assert!(stop.len() > 100, "{from} -> {to}: too few windows");
        let worst = stop.iter().map(|w| w.3).fold(f64::MIN, f64::max);
        eprintln!("{from} -> {to}: sweep above {nyquist_out} Hz leaves at most {worst:.1} dB");
        assert!(worst <= -REJECTION_DB, "{from} -> {to}: {worst:.1} dB");
        // And the same sweep below 20 kHz came through at full level.
        let pass = windows.iter().filter(|w| w.0 < PASSBAND_HZ - 100.0);
        for w in pass {
            assert!(w.1.abs() <= PASSBAND_DB, "{from} -> {to}: {w:?}");
        }
    }
}

#[test]
fn lengths_are_exact_and_an_impulse_stays_in_place() {
    for (from, to) in PAIRS {
        for frames in [1, 2, 147, 1_000, 44_099, 44_100, 100_001] {
            let y = resample(&[vec![0.0; frames], vec![0.0; frames]], from, to).unwrap();
            let want = (frames as u64 * to as u64).div_ceil(from as u64) as usize;
            assert_eq!(y[0].len(), want, "{from} -> {to}, {frames} frames");
            assert_eq!(y[1].len(), want);
        }
        // An impulse at a time both rates sample lands on that sample of the output.
        let step = (from / gcd(from, to)) as usize;
        let n0 = step * (from as usize / step / 3);
        let mut x = vec![0.0f32; from as usize];
        x[n0] = 0.5;
        let y = resample(&[x], from, to).unwrap().remove(0);
        let peak = (0..y.len())
            .max_by(|&a, &b| y[a].abs().total_cmp(&y[b].abs()))
            .unwrap();
        let want = n0 * to as usize / from as usize;
        assert_eq!(peak, want, "{from} -> {to}");
    }
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[test]
fn stereo_channels_are_converted_independently() {
    let l = sine(1_000.0, 0.5, 44_100.0, 44_100);
    let r = sine(7_000.0, 0.25, 44_100.0, 44_100);
    let both = resample(&[l.clone(), r.clone()], 44_100, 48_000).unwrap();
    assert_eq!(both[0], resample(&[l], 44_100, 48_000).unwrap()[0]);
    assert_eq!(both[1], resample(&[r], 44_100, 48_000).unwrap()[0]);
}

/// The measurements above can fail: a converter without a proper anti-aliasing filter (every
/// second sample) aliases at full level, and linear interpolation droops well over 0.05 dB at
/// 20 kHz and images far above -100 dB.
#[test]
fn the_measurements_catch_a_naive_converter() {
    let amp = 0.9;
    let x = sine(28_000.0, amp, 96_000.0, 192_000);
    let decimated: Vec<f32> = x.iter().step_by(2).copied().collect();
    let (level, at) = worst_spur(&decimated, 48_000, None, amp);
    assert!(
        level > -1.0 && (at - 20_000.0).abs() < 10.0,
        "{level} at {at}"
    );

    let x = sine(PASSBAND_HZ, amp, 44_100.0, 88_200);
    let linear: Vec<f32> = (0..x.len() * 2)
        .map(|m| {
            let (i, odd) = (m / 2, m % 2 == 1);
            if odd {
                (x[i] + x.get(i + 1).copied().unwrap_or(0.0)) / 2.0
            } else {
                x[i]
            }
        })
        .collect();
    let (offset, part) = steady(&linear, 88_200);
    let (a, _) = tone(part, offset, PASSBAND_HZ, 88_200.0);
    assert!(db(a / amp) < -PASSBAND_DB * 10.0, "{}", db(a / amp));
    let (level, _) = worst_spur(&linear, 88_200, Some(PASSBAND_HZ), amp);
    assert!(level > -60.0, "{level}");
}
