//! The tonal EQ's contracts: analog-matched curves (checked against the s-domain prototypes
//! written out here, against the coefficients and against sines run through `process`),
//! click-free glides, bit-identical output for any block split, neutral = identity, no
//! allocation, no subnormal state, every sample rate, mono and stereo, latency 0.

use std::f64::consts::PI;

use lathe::dsp::eq::design::{Biquad, Designer};
use lathe::dsp::eq::{BellSettings, EqSettings, HpMode, ShelfSettings, TonalEq};

const RATES: [f32; 6] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];

#[path = "common/alloc_counter.rs"]
mod alloc_counter;

// ---------------------------------------------------------------------------------------
// Helpers: a tiny complex type for the s- and z-domain, signals, runners.

#[derive(Clone, Copy)]
struct C(f64, f64);

impl C {
    fn add(self, o: C) -> C {
        C(self.0 + o.0, self.1 + o.1)
    }
    fn mul(self, o: C) -> C {
        C(self.0 * o.0 - self.1 * o.1, self.0 * o.1 + self.1 * o.0)
    }
    fn scale(self, k: f64) -> C {
        C(self.0 * k, self.1 * k)
    }
    fn abs(self) -> f64 {
        self.0.hypot(self.1)
    }
}

/// `|N(s)/D(s)|` for quadratics given as `[s², s, 1]` coefficients, at `s = j·nu`.
fn analog_db(num: [f64; 3], den: [f64; 3], nu: f64) -> f64 {
    let s = C(0.0, nu);
    let eval = |p: [f64; 3]| s.mul(s).scale(p[0]).add(s.scale(p[1])).add(C(p[2], 0.0));
    20.0 * (eval(num).abs() / eval(den).abs()).log10()
}

/// Constant-Q bell: `(s² + s·A/Q + 1) / (s² + s/(A·Q) + 1)`, `A = 10^(dB/40)`.
fn analog_bell_db(f: f64, f0: f64, q: f64, gain_db: f64) -> f64 {
    let a = 10f64.powf(gain_db / 40.0);
    analog_db([1.0, a / q, 1.0], [1.0, 1.0 / (a * q), 1.0], f / f0)
}

/// RBJ high shelf: `A·(A·s² + s·√A/Q + 1) / (s² + s·√A/Q + A)`.
fn analog_high_shelf_db(f: f64, f0: f64, q: f64, gain_db: f64) -> f64 {
    let a = 10f64.powf(gain_db / 40.0);
    let k = a.sqrt() / q;
    analog_db([a * a, a * k, a], [1.0, k, a], f / f0)
}

/// Butterworth high-pass section: `s² / (s² + s/Q + 1)`.
fn analog_hp_db(f: f64, fc: f64, q: f64) -> f64 {
    analog_db([1.0, 0.0, 0.0], [1.0, 1.0 / q, 1.0], f / fc)
}

/// `|H(e^jw)|` in dB straight from the coefficients.
fn digital_db(c: &Biquad, f: f64, fs: f64) -> f64 {
    let w = 2.0 * PI * f / fs;
    let z1 = C(w.cos(), -w.sin());
    let z2 = z1.mul(z1);
    let num = C(c.b0, 0.0).add(z1.scale(c.b1)).add(z2.scale(c.b2));
    let den = C(1.0, 0.0).add(z1.scale(c.a1)).add(z2.scale(c.a2));
    20.0 * (num.abs() / den.abs()).log10()
}

fn third_octaves() -> impl Iterator<Item = f64> {
    (0..=30)
        .map(|i| 20.0 * 2f64.powf(i as f64 / 3.0))
        .map(|f| f.min(20_000.0))
}

/// Deterministic xorshift noise in [-1, 1).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * 0.5 * (self.unit() + 1.0)
    }
}

fn sine(freq: f64, fs: f64, amp: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| (amp * (2.0 * PI * freq * n as f64 / fs).sin()) as f32)
        .collect()
}

fn noise(frames: usize, seed: u64) -> Vec<f32> {
    let mut rng = Rng(seed);
    (0..frames).map(|_| 0.5 * rng.unit()).collect()
}

/// Amplitude of the `freq` component of `x`, by a least-squares fit of `a·sin + b·cos`.
fn fitted_amplitude(x: &[f32], start: usize, freq: f64, fs: f64) -> f64 {
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &y) in x.iter().enumerate().skip(start) {
        let ph = 2.0 * PI * freq * n as f64 / fs;
        let (s, c) = ph.sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += y as f64 * s;
        yc += y as f64 * c;
    }
    let det = ss * cc - sc * sc;
    let a = (ys * cc - yc * sc) / det;
    let b = (yc * ss - ys * sc) / det;
    a.hypot(b)
}

fn neutral() -> EqSettings {
    EqSettings::default()
}

fn one_bell(freq_hz: f32, gain_db: f32, q: f32) -> EqSettings {
    let mut s = neutral();
    s.bells[1] = BellSettings {
        freq_hz,
        gain_db,
        q,
    };
    s
}

fn high_shelf(freq_hz: f32, gain_db: f32, q: f32) -> EqSettings {
    let mut s = neutral();
    s.high_shelf = ShelfSettings {
        freq_hz,
        gain_db,
        q,
    };
    s
}

/// Every band working: high-pass 24 dB/oct, both shelves, three bells, tilt.
fn busy() -> EqSettings {
    let mut s = neutral();
    s.hp_mode = HpMode::Slope24;
    s.hp_freq_hz = 35.0;
    s.tilt_db = -1.5;
    s.low_shelf = ShelfSettings {
        freq_hz: 90.0,
        gain_db: 2.5,
        q: 0.7,
    };
    s.bells = [
        BellSettings {
            freq_hz: 300.0,
            gain_db: -3.0,
            q: 1.4,
        },
        BellSettings {
            freq_hz: 2_500.0,
            gain_db: 1.5,
            q: 0.8,
        },
        BellSettings {
            freq_hz: 12_000.0,
            gain_db: 4.0,
            q: 2.0,
        },
    ];
    s.high_shelf = ShelfSettings {
        freq_hz: 9_000.0,
        gain_db: 2.0,
        q: 0.7,
    };
    s
}

/// Settings with every control drawn at random inside its range.
fn random_settings(rng: &mut Rng) -> EqSettings {
    let mut s = neutral();
    s.hp_mode = HpMode::ALL[rng.below(3)];
    s.hp_freq_hz = rng.range(10.0, 120.0);
    s.tilt_db = rng.range(-6.0, 6.0);
    s.low_shelf = ShelfSettings {
        freq_hz: rng.range(20.0, 2_000.0),
        gain_db: rng.range(-12.0, 12.0),
        q: rng.range(0.3, 2.0),
    };
    for b in &mut s.bells {
        *b = BellSettings {
            freq_hz: rng.range(20.0, 20_000.0),
            gain_db: rng.range(-12.0, 12.0),
            q: rng.range(0.2, 10.0),
        };
    }
    s.high_shelf = ShelfSettings {
        freq_hz: rng.range(1_000.0, 20_000.0),
        gain_db: rng.range(-12.0, 12.0),
        q: rng.range(0.3, 2.0),
    };
    // Now and then a band sits exactly at 0 dB, so sections come and go.
    if rng.below(3) == 0 {
        s.bells[rng.below(3)].gain_db = 0.0;
        s.tilt_db = 0.0;
    }
    s
}

fn process_all(eq: &mut TonalEq, chans: &mut [Vec<f32>], settings: &EqSettings) {
    let mut refs: Vec<&mut [f32]> = chans.iter_mut().map(|c| &mut c[..]).collect();
    eq.process(&mut refs, settings);
}

/// Runs `input` through a fresh EQ with `schedule[k].1` in force from frame `schedule[k].0`,
/// cutting blocks at every change and wherever `block_len` says.
fn run_schedule(
    fs: f32,
    input: &[Vec<f32>],
    schedule: &[(usize, EqSettings)],
    mut block_len: impl FnMut() -> usize,
) -> Vec<Vec<f32>> {
    let mut eq = TonalEq::new(fs, 2);
    let mut out = input.to_vec();
    let frames = out[0].len();
    let mut pos = 0;
    let mut k = 0;
    while pos < frames {
        while k + 1 < schedule.len() && schedule[k + 1].0 <= pos {
            k += 1;
        }
        let next_change = schedule.get(k + 1).map_or(frames, |c| c.0);
        let end = pos.saturating_add(block_len()).min(next_change).min(frames);
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[pos..end]).collect();
        eq.process(&mut block, &schedule[k].1);
        pos = end;
    }
    out
}

// ---------------------------------------------------------------------------------------
// 2. The digital curve follows the analog prototype.

/// Largest |digital - analog| in dB from 20 Hz to 20 kHz, three ways: from the coefficients,
/// from `magnitude_db`, and measured with sines through `process`.
fn deviation_from_analog(
    fs: f64,
    settings: &EqSettings,
    coeffs: &Biquad,
    analog: impl Fn(f64) -> f64,
) -> (f64, f64, f64) {
    let (mut from_coeffs, mut from_curve, mut measured) = (0.0f64, 0.0f64, 0.0f64);
    for f in (0..=600).map(|i| 20.0 * 1000f64.powf(i as f64 / 600.0)) {
        let a = analog(f);
        from_coeffs = from_coeffs.max((digital_db(coeffs, f, fs) - a).abs());
        let curve = TonalEq::magnitude_db(settings, fs as f32, f as f32) as f64;
        from_curve = from_curve.max((curve - a).abs());
    }
    for f in third_octaves() {
        let frames = (fs * 0.6) as usize;
        let x = sine(f, fs, 0.25, frames);
        let mut y = vec![x.clone()];
        let mut eq = TonalEq::new(fs as f32, 1);
        process_all(&mut eq, &mut y, settings);
        let start = frames / 2;
        let gain = fitted_amplitude(&y[0], start, f, fs) / fitted_amplitude(&x, start, f, fs);
        measured = measured.max((20.0 * gain.log10() - analog(f)).abs());
    }
    (from_coeffs, from_curve, measured)
}

#[test]
fn high_shelf_and_bell_follow_the_analog_prototype_up_to_20k_at_44k1() {
    let fs = 44_100.0;
    let designer = Designer::new(fs);

    let shelf = high_shelf(10_000.0, 6.0, std::f32::consts::FRAC_1_SQRT_2);
    let q = f64::from(std::f32::consts::FRAC_1_SQRT_2);
    let c = designer.high_shelf(f64::from(10_000.0f32.log2()).exp2(), q, 6.0);
    let dev = deviation_from_analog(fs, &shelf, &c, |f| {
        analog_high_shelf_db(f, 10_000.0, q, 6.0)
    });
    println!("high shelf 10 kHz +6 dB: max deviation from analog (coeffs, curve, measured) = {dev:.3?} dB");
    assert!(dev.0 < 0.5 && dev.1 < 0.5 && dev.2 < 0.5, "{dev:?}");

    let bell = one_bell(12_000.0, 6.0, 1.0);
    let c = designer.bell(f64::from(12_000.0f32.log2()).exp2(), 1.0, 6.0);
    let dev = deviation_from_analog(fs, &bell, &c, |f| analog_bell_db(f, 12_000.0, 1.0, 6.0));
    println!(
        "bell 12 kHz +6 dB Q 1: max deviation from analog (coeffs, curve, measured) = {dev:.3?} dB"
    );
    assert!(dev.0 < 0.5 && dev.1 < 0.5 && dev.2 < 0.5, "{dev:?}");
}

#[test]
fn curves_match_the_analog_prototypes_at_every_rate() {
    for fs in RATES {
        let fs = f64::from(fs);
        // Cut and boost bells across the band, including narrow ones near DC.
        for (f0, q, g) in [
            (20.0, 10.0, 12.0),
            (20.0, 10.0, -12.0),
            (100.0, 0.2, 6.0),
            (1_000.0, 3.0, -9.0),
            (5_000.0, 0.7, 12.0),
            (12_000.0, 1.0, -6.0),
        ] {
            let s = one_bell(f0 as f32, g as f32, q as f32);
            let worst = (0..=300)
                .map(|i| 20.0 * 1000f64.powf(i as f64 / 300.0))
                .map(|f| {
                    let d = TonalEq::magnitude_db(&s, fs as f32, f as f32) as f64;
                    (d - analog_bell_db(f, f0, q, g)).abs()
                })
                .fold(0.0, f64::max);
            let limit = if fs < 80_000.0 { 0.5 } else { 0.05 };
            assert!(
                worst < limit,
                "{fs} Hz: bell {f0} Hz Q {q} {g} dB off by {worst} dB"
            );
        }
    }
}

#[test]
fn high_pass_is_butterworth_at_both_slopes() {
    for fs in RATES {
        for fc in [10.0f32, 30.0, 120.0] {
            for (mode, qs) in [
                (HpMode::Slope12, vec![std::f64::consts::FRAC_1_SQRT_2]),
                (
                    HpMode::Slope24,
                    vec![0.541_196_100_146_197, 1.306_562_964_876_376_6],
                ),
            ] {
                let mut s = neutral();
                s.hp_mode = mode;
                s.hp_freq_hz = fc;
                let fc = f64::from(fc);
                let at_fc = TonalEq::magnitude_db(&s, fs, fc as f32);
                assert!(
                    (at_fc + 3.01).abs() < 0.02,
                    "{fs} Hz {mode:?}: {at_fc} dB at fc"
                );
                for f in [fc / 4.0, fc / 2.0, fc * 2.0, 1_000.0, 15_000.0] {
                    let analog: f64 = qs.iter().map(|&q| analog_hp_db(f, fc, q)).sum();
                    let d = TonalEq::magnitude_db(&s, fs, f as f32) as f64;
                    assert!(
                        (d - analog).abs() < 0.02,
                        "{fs} Hz {mode:?} fc {fc}: {d} vs {analog} at {f}"
                    );
                }
            }
        }
    }
}

#[test]
fn tilt_pivots_at_1k_and_reaches_its_setting_at_the_band_edges() {
    for fs in RATES {
        for tilt in [-6.0f32, -2.0, 3.0, 6.0] {
            let mut s = neutral();
            s.tilt_db = tilt;
            let at = |f: f32| TonalEq::magnitude_db(&s, fs, f);
            assert!(
                at(1_000.0).abs() < 1e-3,
                "{fs}: {} dB at the pivot",
                at(1_000.0)
            );
            assert!(
                (at(20.0) + tilt).abs() < 0.15 * tilt.abs().max(1.0),
                "{fs} {tilt}"
            );
            assert!(
                (at(20_000.0) - tilt).abs() < 0.2 * tilt.abs().max(1.0),
                "{fs} {tilt}"
            );
            // Monotonic and gentle: never steeper than 6 dB per octave.
            let mut last = at(20.0);
            for i in 1..=30 {
                let now = at(20.0 * 2f32.powf(i as f32 / 3.0));
                let step = (now - last) * tilt.signum();
                assert!(
                    (-1e-4..=2.0).contains(&step),
                    "{fs} {tilt}: third-octave step {step}"
                );
                last = now;
            }
        }
    }
}

#[test]
fn magnitude_db_is_the_product_of_the_bands_and_what_process_does() {
    let fs = 48_000.0;
    let s = busy();
    for f in [
        25.0, 60.0, 300.0, 1_000.0, 2_500.0, 9_000.0, 12_000.0, 18_000.0,
    ] {
        let frames = 48_000;
        let x = sine(f, fs, 0.25, frames);
        let mut y = vec![x.clone()];
        let mut eq = TonalEq::new(fs as f32, 1);
        process_all(&mut eq, &mut y, &s);
        let gain =
            fitted_amplitude(&y[0], frames / 2, f, fs) / fitted_amplitude(&x, frames / 2, f, fs);
        let measured = 20.0 * gain.log10();
        let curve = TonalEq::magnitude_db(&s, fs as f32, f as f32) as f64;
        assert!(
            (measured - curve).abs() < 0.01,
            "{f} Hz: measured {measured}, curve {curve}"
        );
    }
    assert_eq!(TonalEq::magnitude_db(&neutral(), 44_100.0, 1_000.0), 0.0);
}

// ---------------------------------------------------------------------------------------
// 3. Glides: no step beyond what the gain change itself explains.

/// Sweeps `settings(from)` to `settings(to)` over 10 ms (the target moves every sample) under
/// a 1 kHz sine; returns the largest sample-to-sample step over the steepest step of the
/// 1 kHz sine at the larger of the two steady-state gains.
fn sweep_step_ratio(fs: f32, from: f32, to: f32, settings: impl Fn(f32) -> EqSettings) -> f64 {
    let fs64 = f64::from(fs);
    let amp = 0.25;
    let settle = (fs64 * 0.3) as usize;
    let sweep = (fs64 * 0.010) as usize;
    let frames = 2 * settle + sweep;
    let x = sine(1_000.0, fs64, amp, frames);
    let mut y = x.clone();
    let mut eq = TonalEq::new(fs, 1);
    for n in 0..frames {
        let t = ((n as f32 - settle as f32) / sweep as f32).clamp(0.0, 1.0);
        let s = settings(from + (to - from) * t);
        eq.process(&mut [&mut y[n..n + 1]], &s);
    }
    let gain =
        |v: f32| 10f64.powf(f64::from(TonalEq::magnitude_db(&settings(v), fs, 1_000.0)) / 20.0);
    let steepest = amp * gain(from).max(gain(to)) * 2.0 * (PI * 1_000.0 / fs64).sin();
    let max_step = y[settle / 2..]
        .windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max);
    max_step / steepest
}

#[test]
fn gain_sweeps_do_not_step() {
    type Band = fn(f32, f32) -> EqSettings;
    let bands: [(&str, f32, Band); 6] = [
        ("low shelf", 12.0, |g, f| {
            let mut s = neutral();
            s.low_shelf.gain_db = g;
            s.low_shelf.freq_hz = f.min(2_000.0);
            s
        }),
        ("bell1", 12.0, |g, f| {
            let mut s = neutral();
            s.bells[0].gain_db = g;
            s.bells[0].freq_hz = f;
            s
        }),
        ("bell2", 12.0, |g, f| one_bell(f, g, 1.0)),
        ("bell3 narrow", 12.0, |g, f| {
            let mut s = neutral();
            s.bells[2] = BellSettings {
                freq_hz: f,
                gain_db: g,
                q: 8.0,
            };
            s
        }),
        ("high shelf", 12.0, |g, f| {
            high_shelf(f.max(1_000.0), g, 0.75)
        }),
        ("tilt", 6.0, |g, _| {
            let mut s = neutral();
            s.tilt_db = g;
            s
        }),
    ];
    let mut worst = (0.0, "");
    for fs in [44_100.0, 96_000.0, 192_000.0] {
        for (name, range, band) in bands {
            // The band right on the sine (hardest), and an octave away.
            for freq in [1_000.0f32, 2_000.0] {
                // Both ways, and in and out of bypass (a band settled at exactly 0 dB is skipped).
                for (from, to) in [
                    (-range, range),
                    (range, -range),
                    (0.0, range),
                    (-range, 0.0),
                ] {
                    let r = sweep_step_ratio(fs, from, to, |g| band(g, freq));
                    assert!(
                        r <= 1.01,
                        "{name} at {freq} Hz, {fs} Hz, {from}->{to} dB: step ratio {r}"
                    );
                    if r > worst.0 {
                        worst = (r, name);
                    }
                }
            }
        }
    }
    println!("largest step / steepest sine step during 10 ms gain sweeps: {worst:?}");
}

#[test]
fn jumps_and_high_pass_switches_glide_too() {
    let fs = 48_000.0;
    // An instant -12 -> +12 dB jump on a bell at the sine's frequency: the glide turns it into
    // a sweep, so it stays within the sine's own steepest step too.
    let r = sweep_step_ratio(fs, -12.0, 12.0, |g| {
        one_bell(1_000.0, if g > -12.0 { 12.0 } else { -12.0 }, 1.0)
    });
    assert!(r <= 1.01, "jump: step ratio {r}");
    // Switching the high-pass in and between slopes under a 100 Hz sine, cutoff 120 Hz.
    let amp = 0.25;
    let x = sine(100.0, fs as f64, amp, 96_000);
    let mut y = x.clone();
    let mut eq = TonalEq::new(fs, 1);
    let modes = [
        HpMode::Off,
        HpMode::Slope24,
        HpMode::Slope12,
        HpMode::Off,
        HpMode::Slope12,
    ];
    for (k, chunk) in y.chunks_mut(96_000 / modes.len()).enumerate() {
        let mut s = neutral();
        s.hp_mode = modes[k.min(modes.len() - 1)];
        s.hp_freq_hz = 120.0;
        eq.process(&mut [chunk], &s);
    }
    let steepest = amp * 2.0 * (PI * 100.0 / fs as f64).sin();
    let max_step = y
        .windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max);
    assert!(
        max_step <= 1.01 * steepest,
        "high-pass switching: {}",
        max_step / steepest
    );
}

// ---------------------------------------------------------------------------------------
// 3. Block-size invariance while parameters move.

#[test]
fn any_block_split_gives_bit_identical_output_while_parameters_move() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for fs in [44_100.0f32, 96_000.0] {
        for channels in [1, 2] {
            let frames = 120_000;
            let input: Vec<Vec<f32>> = (0..channels).map(|c| noise(frames, 7 + c as u64)).collect();
            // New settings every 500 to 8000 frames: many glides overlap, sections come and
            // go, high-pass modes switch.
            let mut schedule = vec![(0, busy())];
            let mut at = 0;
            while at < frames {
                at += 500 + rng.below(7_500);
                schedule.push((at, random_settings(&mut rng)));
            }
            let whole = run_schedule(fs, &input, &schedule, || usize::MAX);
            for round in 0..3 {
                let mut split = Rng(1 + round);
                let out = run_schedule(fs, &input, &schedule, || match split.below(4) {
                    0 => 1 + split.below(8),
                    1 => 1 + split.below(64),
                    _ => 1 + split.below(8192),
                });
                assert!(
                    out == whole,
                    "{fs} Hz, {channels} ch, round {round}: outputs differ"
                );
            }
            assert!(whole.iter().flatten().all(|v| v.is_finite()));
        }
    }
}

// ---------------------------------------------------------------------------------------
// 5. Contracts.

#[test]
fn neutral_is_bit_transparent_even_after_moving_and_with_odd_frequencies() {
    for fs in RATES {
        for channels in [1usize, 2] {
            let input: Vec<Vec<f32>> = (0..channels).map(|c| noise(30_000, 3 + c as u64)).collect();
            // Neutral with every frequency and Q moved: still nothing to do.
            let mut odd = neutral();
            odd.hp_freq_hz = 77.0;
            odd.low_shelf.freq_hz = 33.0;
            odd.bells[2].q = 9.0;
            odd.high_shelf.q = 1.9;
            for s in [neutral(), odd] {
                let mut out = input.clone();
                let mut eq = TonalEq::new(fs, 2);
                process_all(&mut eq, &mut out, &s);
                assert!(
                    out == input,
                    "{fs} Hz, {channels} ch: neutral changed the signal"
                );
            }
            // Boost, then back to neutral: once the glides have landed, the identity again.
            let mut eq = TonalEq::new(fs, 2);
            let mut warm = input.clone();
            process_all(&mut eq, &mut warm, &busy());
            let settle = (fs * 0.4) as usize;
            let mut long: Vec<Vec<f32>> = (0..channels)
                .map(|c| noise(settle, 11 + c as u64))
                .collect();
            process_all(&mut eq, &mut long, &neutral());
            let mut out = input.clone();
            process_all(&mut eq, &mut out, &neutral());
            assert!(
                out == input,
                "{fs} Hz, {channels} ch: not transparent after settling"
            );
        }
    }
}

#[test]
fn process_and_reset_never_allocate() {
    let mut rng = Rng(5);
    for fs in RATES {
        let mut eq = TonalEq::new(fs, 2);
        let mut stereo = [noise(20_000, 1), noise(20_000, 2)];
        let mut mono = noise(20_000, 3);
        let settings: Vec<EqSettings> = (0..40).map(|_| random_settings(&mut rng)).collect();
        alloc_counter::start();
        for (k, s) in settings.iter().enumerate() {
            let (a, b) = stereo.split_at_mut(1);
            let r = k * 500..(k + 1) * 500;
            eq.process(&mut [&mut a[0][r.clone()], &mut b[0][r.clone()]], s);
            eq.process(&mut [&mut mono[r]], s);
            eq.process(&mut [], s);
            if k % 13 == 12 {
                eq.reset();
            }
        }
        let n = alloc_counter::stop();
        assert_eq!(n, 0, "{fs} Hz: {n} allocations in process/reset");
    }
}

#[test]
fn state_never_goes_subnormal_in_decaying_silence() {
    for fs in [44_100.0f32, 192_000.0] {
        // The slowest and the fastest decays: a 20 Hz Q 10 bell, a Q 0.2 cut near Nyquist,
        // a 24 dB/oct high-pass at 10 Hz.
        let mut s = busy();
        s.hp_freq_hz = 10.0;
        s.bells[0] = BellSettings {
            freq_hz: 20.0,
            gain_db: 12.0,
            q: 10.0,
        };
        s.bells[2] = BellSettings {
            freq_hz: 20_000.0,
            gain_db: -12.0,
            q: 0.2,
        };
        let mut eq = TonalEq::new(fs, 2);
        let mut burst = vec![noise(4_096, 1), noise(4_096, 2)];
        process_all(&mut eq, &mut burst, &s);
        // Then a long silence (20 s), and a signal at the sanitiser's floor.
        for k in 0..(20.0 * fs / 1_000.0) as usize {
            let level = if k % 100 == 99 { 2e-30 } else { 0.0 };
            let mut block = vec![vec![level; 1_000]; 2];
            process_all(&mut eq, &mut block, &s);
            assert!(
                !eq.has_subnormal_state(),
                "{fs} Hz, block {k}: subnormal state"
            );
            assert!(block.iter().flatten().all(|v| v.is_normal() || *v == 0.0));
        }
    }
}

#[test]
fn every_rate_mono_and_stereo_latency_zero() {
    for fs in RATES {
        let mut eq = TonalEq::new(fs, 2);
        assert_eq!(eq.latency_samples(), 0);
        // Stereo with the same signal on both sides equals mono, bit for bit; with different
        // signals, each side equals its own mono run.
        let l = noise(20_000, 21);
        let r = noise(20_000, 22);
        let mut stereo = vec![l.clone(), r.clone()];
        process_all(&mut eq, &mut stereo, &busy());
        for (side, input) in [(0, &l), (1, &r)] {
            let mut mono = vec![input.clone()];
            process_all(&mut TonalEq::new(fs, 1), &mut mono, &busy());
            assert!(
                mono[0] == stereo[side],
                "{fs} Hz: side {side} differs from mono"
            );
        }
        // Causal with no delay: an impulse answers at once, with b0.
        let mut imp = vec![vec![0.0f32; 64]];
        imp[0][0] = 1.0;
        process_all(
            &mut TonalEq::new(fs, 1),
            &mut imp,
            &one_bell(1_000.0, 6.0, 1.0),
        );
        assert!(imp[0][0] != 0.0 && imp[0][0] != 1.0);
        // A third channel passes untouched; empty blocks are fine.
        let mut three = vec![noise(256, 1), noise(256, 2), noise(256, 3)];
        let third = three[2].clone();
        process_all(&mut eq, &mut three, &busy());
        assert!(three[2] == third);
        process_all(&mut eq, &mut [vec![], vec![]], &busy());
    }
}

// ---------------------------------------------------------------------------------------
// Settings.

#[test]
fn settings_round_trip_and_fill_missing_fields_per_band() {
    let s = busy();
    let text = toml::to_string(&s).unwrap();
    let back: EqSettings = toml::from_str(&text).unwrap();
    assert_eq!(back, s);

    let partial: EqSettings = toml::from_str(
        "hp_mode = \"12\"\n[high_shelf]\ngain_db = 2.0\n[[bells]]\nq = 3.0\n[[bells]]\ngain_db = -1.0\n",
    )
    .unwrap();
    let d = EqSettings::default();
    assert_eq!(partial.hp_mode, HpMode::Slope12);
    assert_eq!(partial.high_shelf.freq_hz, d.high_shelf.freq_hz);
    assert_eq!(partial.high_shelf.gain_db, 2.0);
    assert_eq!(partial.low_shelf, d.low_shelf);
    assert_eq!((partial.bells[0].freq_hz, partial.bells[0].q), (250.0, 3.0));
    assert_eq!(
        (partial.bells[1].freq_hz, partial.bells[1].gain_db),
        (1_000.0, -1.0)
    );
    assert_eq!(partial.bells[2], d.bells[2]);

    assert!(toml::from_str::<EqSettings>("[low_shelf]\ngain = 1.0\n").is_err());
    assert!(toml::from_str::<EqSettings>("hp_mode = \"18\"\n").is_err());
    assert!(toml::from_str::<EqSettings>(&"[[bells]]\n".repeat(4)).is_err());
}

#[test]
fn controls_cover_every_continuous_field_and_clamped_respects_them() {
    let d = EqSettings::default();
    let controls = d.controls();
    assert_eq!(controls.len(), 18);
    for (name, value, range) in &controls {
        assert!(name.starts_with("eq."), "{name}");
        assert!(
            range.contains(*value),
            "{name} default {value} outside its range"
        );
        assert_eq!(*value, range.default, "{name}");
    }
    assert!(controls.iter().any(|c| c.0 == "eq.bell2.gain_db"));

    let mut wild = busy();
    wild.hp_freq_hz = 1e6;
    wild.tilt_db = f32::NAN;
    wild.bells[2].freq_hz = f32::INFINITY;
    wild.bells[0].q = -3.0;
    wild.low_shelf.gain_db = 40.0;
    let c = wild.clamped();
    for (name, value, range) in c.controls() {
        assert!(range.contains(value), "{name} = {value}");
    }
    assert_eq!(c.tilt_db, 0.0);
    assert_eq!(c.bells[2].freq_hz, 4_000.0);
    assert_eq!(c.hp_freq_hz, 120.0);
    assert_eq!(c.low_shelf.gain_db, 12.0);
}
