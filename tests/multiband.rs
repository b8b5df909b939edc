//! The multiband compressor's contracts: flat allpass sum with neutral bands, the gain
//! computer's figures, block-size invariance (also while parameters move), no allocation,
//! no subnormal state, finite output, every rate in mono and stereo, zero latency,
//! bit-transparent when off, and no clicks when anything is switched.

use lathe::dsp::multiband::{Detection, Multiband, MultibandSettings, StereoMode};

// ---------------------------------------------------------------------------------------
// Allocation counting, per thread, so the other tests running in parallel do not count.

#[path = "common/alloc_counter.rs"]
mod alloc_counter;

// ---------------------------------------------------------------------------------------
// Signals and helpers.

const RATES: [f32; 6] = [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0];
const TAU: f64 = 2.0 * std::f64::consts::PI;

/// xorshift64*, so every run tests the same signals.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn bipolar(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 23) as f32 - 1.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// Stereo music-like material: bass, kick, partials up to 15 kHz, noise bursts.
fn music(frames: usize, rate: f32, peak: f32, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng(seed | 1);
    let (mut left, mut right) = (Vec::with_capacity(frames), Vec::with_capacity(frames));
    let partials = [
        55.0, 110.0, 330.0, 880.0, 1_760.0, 3_500.0, 7_000.0, 15_000.0,
    ];
    for n in 0..frames {
        let t = n as f64 / rate as f64;
        let beat = (t * 2.0).fract();
        let kick = (-beat * 25.0).exp() * (TAU * 55.0 * t).sin();
        let mut l = 0.5 * kick;
        let mut r = 0.5 * kick;
        for (k, f) in partials.iter().enumerate() {
            let a = 0.15 / (1.0 + k as f64);
            l += a * (TAU * f * t + k as f64).sin();
            r += a * (TAU * f * 1.002 * t + 2.0 * k as f64).sin();
        }
        let burst = if beat > 0.5 && beat < 0.53 { 0.3 } else { 0.02 };
        left.push((l as f32 + burst * rng.bipolar()) * peak * 0.8);
        right.push((r as f32 + burst * rng.bipolar()) * peak * 0.8);
    }
    vec![left, right]
}

fn sine(frames: usize, rate: f32, hz: f64, amplitude: f32) -> Vec<f32> {
    (0..frames)
        .map(|n| (amplitude as f64 * (TAU * hz * n as f64 / rate as f64).sin()) as f32)
        .collect()
}

fn process_block(
    mb: &mut Multiband,
    chans: &mut [Vec<f32>],
    range: std::ops::Range<usize>,
    s: &MultibandSettings,
) {
    let mut block: Vec<&mut [f32]> = chans.iter_mut().map(|c| &mut c[range.clone()]).collect();
    mb.process(&mut block, s);
}

/// Runs `input` through a fresh stage in one block.
fn run(input: &[Vec<f32>], rate: f32, s: &MultibandSettings) -> Vec<Vec<f32>> {
    let mut mb = Multiband::new(rate, 2);
    let mut out = input.to_vec();
    let n = out[0].len();
    process_block(&mut mb, &mut out, 0..n, s);
    out
}

/// Runs `input` with settings that change at fixed frames (`schedule`: (frame, settings),
/// the first at 0), in blocks of the given sizes (cycled), each also cut where the settings
/// change. Empty `blocks`: one block per settings segment.
fn run_scheduled(
    input: &[Vec<f32>],
    rate: f32,
    schedule: &[(usize, MultibandSettings)],
    blocks: &[usize],
) -> Vec<Vec<f32>> {
    let mut mb = Multiband::new(rate, 2);
    let mut out = input.to_vec();
    let frames = out[0].len();
    let (mut start, mut k, mut seg) = (0, 0, 0);
    while start < frames {
        while seg + 1 < schedule.len() && schedule[seg + 1].0 <= start {
            seg += 1;
        }
        let seg_end = schedule.get(seg + 1).map_or(frames, |c| c.0).min(frames);
        let end = if blocks.is_empty() {
            seg_end
        } else {
            (start + blocks[k % blocks.len()]).min(seg_end)
        };
        process_block(&mut mb, &mut out, start..end, &schedule[seg].1);
        start = end;
        k += 1;
    }
    out
}

/// |H(f)| of an impulse response by direct DFT (phasor recursion in f64).
fn dft_magnitude(h: &[f32], f: f64, rate: f64) -> f64 {
    let w = TAU * f / rate;
    let (step_re, step_im) = (w.cos(), -w.sin());
    let (mut p_re, mut p_im) = (1.0f64, 0.0f64);
    let (mut re, mut im) = (0.0, 0.0);
    for &x in h {
        re += x as f64 * p_re;
        im += x as f64 * p_im;
        (p_re, p_im) = (
            p_re * step_re - p_im * step_im,
            p_re * step_im + p_im * step_re,
        );
    }
    re.hypot(im)
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

/// Peak magnitude of `x`.
fn peak(x: &[f32]) -> f32 {
    x.iter().fold(0.0f32, |a, &b| a.max(b.abs()))
}

/// Largest sample-to-sample step: a click shows up as a step far larger than the signal's.
fn max_step(x: &[f32]) -> f32 {
    x.windows(2).fold(0.0f32, |a, w| a.max((w[1] - w[0]).abs()))
}

fn enabled() -> MultibandSettings {
    MultibandSettings {
        enabled: true,
        ..Default::default()
    }
}

/// Every band compressing music hard, with makeup, soft knees of different widths.
fn busy() -> MultibandSettings {
    let mut s = enabled();
    for (i, b) in s.bands.iter_mut().enumerate() {
        b.threshold_db = -30.0 + 3.0 * i as f32;
        b.ratio = 2.0 + 2.0 * i as f32;
        b.knee_db = 3.0 * i as f32;
        b.attack_ms = 1.0 + 5.0 * i as f32;
        b.release_ms = 40.0 + 60.0 * i as f32;
        b.makeup_db = 3.0;
    }
    s
}

// ---------------------------------------------------------------------------------------
// 1. The crossover sum.

/// Max |dB| of the neutral stage's response, 20 Hz – 20 kHz in twelfth-octave steps plus
/// the crossover frequencies, measured on the impulse response through `process`.
fn flatness_db(rate: f32, s: &MultibandSettings) -> f64 {
    let n = 1 << 16;
    let mut x = vec![vec![0.0f32; n]; 2];
    x[0][0] = 1.0;
    let out = run(&x, rate, s);
    // Left in, left out: M and S are each half the impulse, and L = M + S.
    assert!(
        peak(&out[1]) < 1e-6,
        "{rate} Hz: right channel {}",
        peak(&out[1])
    );
    let mut freqs: Vec<f64> = (0..=120)
        .map(|k| 20.0 * 2f64.powf(k as f64 / 12.0))
        .collect();
    freqs.retain(|&f| f <= 20_000.0);
    freqs.extend(s.clamped().crossovers_hz.iter().map(|&f| f as f64));
    freqs.push(20_000.0);
    freqs
        .iter()
        .map(|&f| db(dft_magnitude(&out[0], f, rate as f64)).abs())
        .fold(0.0, f64::max)
}

#[test]
fn neutral_bands_sum_to_a_flat_allpass_at_every_rate() {
    for rate in RATES {
        let worst = flatness_db(rate, &enabled());
        eprintln!("flatness {rate} Hz: max |dev| {worst:.6} dB");
        assert!(worst <= 0.01, "{rate} Hz: {worst} dB");
    }
}

#[test]
fn the_sum_stays_flat_for_any_crossovers_mode_and_detection() {
    for rate in [44_100.0, 192_000.0] {
        for (hz, mode, detection) in [
            ([20.0, 40.0, 80.0], StereoMode::Linked, Detection::Rms),
            (
                [300.0, 3_000.0, 20_000.0],
                StereoMode::MidSide,
                Detection::Peak,
            ),
            ([60.0, 500.0, 10_000.0], StereoMode::MidSide, Detection::Rms),
        ] {
            let mut s = enabled();
            s.crossovers_hz = hz;
            s.mode = mode;
            s.detection = detection;
            let worst = flatness_db(rate, &s);
            assert!(worst <= 0.01, "{rate} Hz, {hz:?}: {worst} dB");
        }
    }
}

#[test]
fn soloed_bands_have_the_crossover_shape() {
    // Band 2 alone (120 Hz – 1 kHz): -6 dB at both crossovers, near 0 dB in between,
    // far down an octave and more outside.
    let rate = 48_000.0;
    let mut s = enabled();
    s.bands[1].solo = true;
    let n = 1 << 15;
    let mut x = vec![vec![0.0f32; n]; 2];
    x[0][0] = 1.0;
    let out = run(&x, rate, &s);
    let at = |f: f64| db(dft_magnitude(&out[0], f, rate as f64));
    assert!((at(120.0) + 6.02).abs() < 0.05, "{}", at(120.0));
    assert!((at(1_000.0) + 6.02).abs() < 0.05, "{}", at(1_000.0));
    assert!(at(350.0) > -0.5 && at(350.0) < 0.0, "{}", at(350.0));
    assert!(at(30.0) < -45.0, "{}", at(30.0));
    assert!(at(8_000.0) < -70.0, "{}", at(8_000.0));
    // Soloing every band is the same as soloing none.
    for b in &mut s.bands {
        b.solo = true;
    }
    assert_eq!(run(&x, rate, &s), run(&x, rate, &enabled()));
}

// ---------------------------------------------------------------------------------------
// 2. The compressor.

/// A settings value with the crossovers at 100 Hz, 200 Hz and 8 kHz, so a 1 kHz tone sits
/// in band 3 at -0.016 dB, and band 3 at `ratio` with a hard knee at -20 dB.
fn band3(ratio: f32, detection: Detection) -> MultibandSettings {
    let mut s = enabled();
    s.crossovers_hz = [100.0, 200.0, 8_000.0];
    s.detection = detection;
    s.bands[2].threshold_db = -20.0;
    s.bands[2].ratio = ratio;
    s.bands[2].knee_db = 0.0;
    s.bands[2].attack_ms = 5.0;
    s.bands[2].release_ms = 100.0;
    s
}

/// Steady-state gain reduction (meter) and output/input level (dB) for a 1 kHz sine.
fn steady_gr(rate: f32, amplitude: f32, s: &MultibandSettings) -> (f32, f64) {
    let frames = rate as usize * 2;
    let x = sine(frames, rate, 1_000.0, amplitude);
    let mut mb = Multiband::new(rate, 2);
    let mut buf = vec![x.clone(), x.clone()];
    let last = frames - rate as usize / 10;
    process_block(&mut mb, &mut buf, 0..last, s);
    process_block(&mut mb, &mut buf, last..frames, s);
    let gr = mb.gain_reduction_db()[2];
    let level = db(peak(&buf[0][last..]) as f64 / peak(&x[last..]) as f64);
    (gr, level)
}

#[test]
fn a_tone_10_db_over_the_threshold_at_4_to_1_loses_7_5_db() {
    for rate in RATES {
        // Peak detection: the sine's peak at -10 dBFS, 10 dB over -20 dB.
        let (gr, level) = steady_gr(rate, 10f32.powf(-0.5), &band3(4.0, Detection::Peak));
        eprintln!("{rate} Hz peak: GR {gr:.3} dB, output {level:.3} dB");
        assert!((gr + 7.5).abs() <= 0.2, "{rate} Hz peak: GR {gr}");
        assert!((level + 7.5).abs() <= 0.2, "{rate} Hz peak: level {level}");
        // RMS detection: the sine's RMS (3.01 dB under its peak) at -10 dBFS.
        let amplitude = 10f32.powf(-0.5) * std::f32::consts::SQRT_2;
        let (gr, level) = steady_gr(rate, amplitude, &band3(4.0, Detection::Rms));
        eprintln!("{rate} Hz rms: GR {gr:.3} dB, output {level:.3} dB");
        assert!((gr + 7.5).abs() <= 0.2, "{rate} Hz rms: GR {gr}");
        assert!((level + 7.5).abs() <= 0.2, "{rate} Hz rms: level {level}");
        // Other bands see almost nothing and report no reduction.
        let mut mb = Multiband::new(rate, 2);
        let x = sine(rate as usize / 2, rate, 1_000.0, 0.3);
        let mut buf = vec![x.clone(), x];
        let n = buf[0].len();
        process_block(&mut mb, &mut buf, 0..n, &band3(4.0, Detection::Peak));
        let gr = mb.gain_reduction_db();
        assert!(
            gr[2] < -5.0 && gr[0] == 0.0 && gr[1] == 0.0 && gr[3] == 0.0,
            "{gr:?}"
        );
    }
}

#[test]
fn the_soft_knee_follows_giannoulis_et_al() {
    // At the threshold, a knee of W dB takes (1 - 1/R)·W/8; W/2 under it, nothing; W/2 over
    // it, (1 - 1/R)·W/2 (JAES 2012, soft-knee gain computer).
    let rate = 48_000.0;
    for (over_db, expected) in [
        (0.0f32, 0.75 * 12.0 / 8.0),
        (-6.0, 0.0),
        (6.0, 0.75 * 6.0),
        (12.0, 0.75 * 12.0),
    ] {
        let mut s = band3(4.0, Detection::Peak);
        s.bands[2].knee_db = 12.0;
        let (gr, _) = steady_gr(rate, 10f32.powf((-20.0 + over_db) / 20.0), &s);
        assert!(
            (gr + expected).abs() <= 0.1,
            "{over_db} dB over: GR {gr}, expected -{expected}"
        );
    }
}

#[test]
fn ratio_one_with_makeup_is_a_static_gain_and_bypass_is_unity() {
    let rate = 48_000.0;
    let mut s = band3(1.0, Detection::Peak);
    s.bands[2].makeup_db = 6.0;
    let (gr, level) = steady_gr(rate, 0.5, &s);
    assert_eq!(gr, 0.0);
    assert!((level - 6.0).abs() < 0.05, "{level}");
    let mut s = band3(10.0, Detection::Peak);
    s.bands[2].makeup_db = 6.0;
    s.bands[2].bypass = true;
    let (gr, level) = steady_gr(rate, 0.5, &s);
    assert_eq!(gr, 0.0);
    assert!(level.abs() < 0.05, "{level}");
}

#[test]
fn mid_side_compresses_mid_and_side_apart_linked_compresses_both() {
    // Mid: a 1 kHz tone under the threshold; side: a 1.3 kHz tone 12 dB over it.
    let rate = 48_000.0;
    let frames = rate as usize;
    let m = sine(frames, rate, 1_000.0, 0.03);
    let sd = sine(frames, rate, 1_300.0, 0.4);
    let input = vec![
        m.iter().zip(&sd).map(|(a, b)| a + b).collect::<Vec<f32>>(),
        m.iter().zip(&sd).map(|(a, b)| a - b).collect::<Vec<f32>>(),
    ];
    let tail = frames / 2..frames;
    // Amplitude of one frequency in the output's mid or side over the tail (DFT).
    let component = |out: &[Vec<f32>], side: bool, hz: f64| {
        let x: Vec<f32> = tail
            .clone()
            .map(|n| (out[0][n] + if side { -out[1][n] } else { out[1][n] }) * 0.5)
            .collect();
        db(2.0 * dft_magnitude(&x, hz, rate as f64) / x.len() as f64)
    };
    let mut s = band3(4.0, Detection::Peak);
    s.mode = StereoMode::MidSide;
    let out = run(&input, rate, &s);
    let mid_in = db(0.03);
    assert!(
        (component(&out, false, 1_000.0) - mid_in).abs() < 0.1,
        "mid untouched"
    );
    assert!(
        component(&out, true, 1_300.0) < db(0.4) - 4.0,
        "side compressed"
    );
    s.mode = StereoMode::Linked;
    let out = run(&input, rate, &s);
    assert!(
        component(&out, false, 1_000.0) < mid_in - 4.0,
        "linked: mid ducks too"
    );
}

// ---------------------------------------------------------------------------------------
// 3. Contracts.

#[test]
fn any_block_split_gives_bit_identical_output_also_while_parameters_move() {
    let mut rng = Rng(42);
    for rate in [44_100.0, 96_000.0, 192_000.0] {
        let frames = 60_000;
        let input = music(frames, rate, 0.9, 7);
        // Parameters change at fixed frames: thresholds, ratios, crossovers gliding, mode,
        // detection, solo, bypass, the stage off and on again.
        let mut schedule = vec![(0, busy())];
        let mut s = busy();
        s.bands[1].threshold_db = -45.0;
        s.crossovers_hz = [200.0, 2_000.0, 9_000.0];
        schedule.push((7_001, s));
        s.mode = StereoMode::MidSide;
        s.detection = Detection::Rms;
        schedule.push((15_555, s));
        s.bands[2].solo = true;
        s.bands[0].bypass = true;
        schedule.push((22_222, s));
        s.enabled = false;
        schedule.push((30_000, s));
        s.enabled = true;
        s.bands[2].solo = false;
        s.crossovers_hz = [80.0, 700.0, 5_000.0];
        schedule.push((30_200, s));
        s.enabled = false;
        schedule.push((41_000, s));
        s.enabled = true;
        schedule.push((50_000, s));

        let whole = run_scheduled(&input, rate, &schedule, &[]);
        assert_ne!(whole, input);
        for _ in 0..4 {
            // Random splits from 1 to 8192 frames, with runs of tiny blocks.
            let blocks: Vec<usize> = (0..64)
                .map(|_| match rng.below(4) {
                    0 => 1 + rng.below(8),
                    1 => 1 + rng.below(64),
                    _ => 1 + rng.below(8192),
                })
                .collect();
            let split = run_scheduled(&input, rate, &schedule, &blocks);
            assert!(split == whole, "{rate} Hz, blocks {blocks:?}");
        }
        // Steady settings, random splits.
        let steady = [(0, busy())];
        let whole = run_scheduled(&input, rate, &steady, &[]);
        let split = run_scheduled(&input, rate, &steady, &[1, 7, 8192, 3, 511, 64, 1000]);
        assert!(split == whole, "{rate} Hz, steady settings");
    }
}

#[test]
fn process_and_reset_never_allocate() {
    for rate in RATES {
        let input = music(rate as usize / 2, rate, 1.0, 3);
        let mut mb = Multiband::new(rate, 2);
        let mut out = input.clone();
        let mut mono = input[0].clone();
        let frames = out[0].len();
        let blocks = [1usize, 64, 512, 8192, 3, 1000];
        let mut settings = busy();
        alloc_counter::start();
        let (mut start, mut k) = (0, 0);
        while start < frames {
            let end = (start + blocks[k % blocks.len()]).min(frames);
            settings.bands[k % 4].threshold_db = -((k % 40) as f32);
            settings.crossovers_hz[1] = 500.0 + (k % 5) as f32 * 300.0;
            settings.mode = if k % 3 == 0 {
                StereoMode::MidSide
            } else {
                StereoMode::Linked
            };
            settings.enabled = k % 7 != 0;
            let (l, r) = out.split_at_mut(1);
            mb.process(
                &mut [&mut l[0][start..end], &mut r[0][start..end]],
                &settings,
            );
            mb.process(&mut [&mut mono[start..end]], &settings);
            mb.process(&mut [], &settings);
            let _ = mb.gain_reduction_db();
            if k % 11 == 0 {
                mb.reset();
            }
            start = end;
            k += 1;
        }
        let n = alloc_counter::stop();
        assert_eq!(n, 0, "{rate} Hz: {n} allocations in process/reset");
    }
}

/// Every float in the stage's state (read through its `Debug` output).
fn state_floats(mb: &Multiband) -> Vec<f32> {
    format!("{mb:?}")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .filter_map(|t| t.parse::<f32>().ok())
        .collect()
}

#[test]
fn state_never_turns_subnormal() {
    for rate in RATES {
        let mut mb = Multiband::new(rate, 2);
        let s = busy();
        // A loud burst, then tiny and subnormal input, then 4 s of silence for every
        // filter and detector to decay.
        let mut x = music(rate as usize / 4, rate, 1.0, 5);
        for c in &mut x {
            c.extend((0..2000).map(|n| {
                if n % 2 == 0 {
                    1e-37
                } else {
                    -f32::from_bits(5)
                }
            }));
            c.extend(std::iter::repeat_n(0.0, rate as usize * 4));
        }
        let frames = x[0].len();
        let mut start = 0;
        let mut checked = 0;
        while start < frames {
            let end = (start + 2048).min(frames);
            process_block(&mut mb, &mut x, start..end, &s);
            for v in state_floats(&mb) {
                assert!(
                    v == 0.0 || v.abs() >= f32::MIN_POSITIVE || !v.is_finite(),
                    "{rate} Hz: subnormal state {v:e}"
                );
                checked += 1;
            }
            for c in &x {
                for &v in &c[start..end] {
                    assert!(
                        v == 0.0 || v.abs() >= f32::MIN_POSITIVE,
                        "{rate} Hz: subnormal output {v:e}"
                    );
                }
            }
            start = end;
        }
        assert!(checked > 1000);
        // After the silence everything has decayed to exact zeros: the output is silent.
        assert!(x[0][frames - 100..].iter().all(|&v| v == 0.0));
    }
}

#[test]
fn finite_output_for_any_finite_input_up_to_1e6() {
    for rate in RATES {
        let frames = rate as usize / 2;
        let mut rng = Rng(9);
        let mut s = busy();
        for b in &mut s.bands {
            b.makeup_db = 24.0;
            b.ratio = 20.0;
        }
        for signal in 0..4 {
            let x: Vec<f32> = (0..frames)
                .map(|n| match signal {
                    0 => 1e6 * rng.bipolar(),
                    1 => {
                        if (n / 37) % 2 == 0 {
                            1e6
                        } else {
                            -1e6
                        }
                    }
                    2 => {
                        if n % 1000 == 0 {
                            -1e6
                        } else {
                            1e-20
                        }
                    }
                    _ => 1e6,
                })
                .collect();
            for mode in [StereoMode::Linked, StereoMode::MidSide] {
                s.mode = mode;
                let out = run(&[x.clone(), x.iter().map(|v| -v * 0.5).collect()], rate, &s);
                assert!(
                    out.iter().flatten().all(|v| v.is_finite()),
                    "{rate} Hz, signal {signal}"
                );
            }
        }
    }
}

#[test]
fn every_rate_mono_and_stereo_agree_and_compress() {
    for rate in RATES {
        let x = music(rate as usize / 2, rate, 0.9, 13)[0].clone();
        let s = busy();
        let stereo = run(&[x.clone(), x.clone()], rate, &s);
        let mut mb = Multiband::new(rate, 1);
        let mut mono = vec![x.clone()];
        let n = x.len();
        process_block(&mut mb, &mut mono, 0..n, &s);
        // Identical channels: mid is the signal, side is silent, in both layouts.
        assert!(stereo[0] == mono[0], "{rate} Hz: mono and stereo differ");
        assert!(stereo[1] == stereo[0], "{rate} Hz");
        assert!(
            mb.gain_reduction_db().iter().all(|&g| g < -1.0),
            "{rate} Hz: {:?}",
            mb.gain_reduction_db()
        );
        assert!(mb.gain_reduction_db().iter().all(|&g| g <= 0.0));
        // A stage made for one channel leaves a second one alone.
        let mut mb = Multiband::new(rate, 1);
        let mut two = vec![x.clone(), x.clone()];
        process_block(&mut mb, &mut two, 0..n, &s);
        assert!(two[0] == mono[0] && two[1] == x);
    }
}

#[test]
fn latency_is_zero() {
    for rate in RATES {
        let mut x = vec![vec![0.0f32; 4096]; 2];
        x[0][100] = 0.5;
        x[1][100] = 0.5;
        let mut mb = Multiband::new(rate, 2);
        assert_eq!(mb.latency_samples(), 0);
        let n = x[0].len();
        process_block(&mut mb, &mut x, 0..n, &enabled());
        assert_eq!(mb.latency_samples(), 0);
        // Causal, and the response starts at the impulse: an allpass chain's first tap.
        assert!(x[0][..100].iter().all(|&v| v == 0.0));
        assert!(x[0][100] > 0.1, "{rate} Hz: {}", x[0][100]);
    }
}

#[test]
fn disabled_is_bit_transparent_and_returns_to_it_after_the_fade() {
    for rate in [44_100.0, 192_000.0] {
        let input = music(rate as usize / 2, rate, 1.0, 17);
        // Off from the start (the default): output is input, bit for bit.
        let mut s = busy();
        s.enabled = false;
        assert_eq!(run(&input, rate, &s), input);
        assert_eq!(run(&input, rate, &MultibandSettings::default()), input);
        let mut mono = Multiband::new(rate, 1);
        let mut m = vec![input[0].clone()];
        let n = m[0].len();
        process_block(&mut mono, &mut m, 0..n, &s);
        assert_eq!(m[0], input[0]);
        assert_eq!(mono.gain_reduction_db(), [0.0; 4]);
        // Switched off while compressing: after the 10 ms fade, input again.
        let off_at = input[0].len() / 2;
        let out = run_scheduled(&input, rate, &[(0, busy()), (off_at, s)], &[333]);
        let fade = (0.010 * rate) as usize;
        assert_ne!(out[0][off_at + fade / 2], input[0][off_at + fade / 2]);
        assert_eq!(out[0][off_at + fade..], input[0][off_at + fade..]);
        assert_eq!(out[1][off_at + fade..], input[1][off_at + fade..]);
    }
}

#[test]
fn switching_anything_does_not_click() {
    // A 150 Hz sine at -6 dBFS into the band 2 compressor, 16 dB over threshold: the
    // largest sample step of the output may not exceed the clean sine's by much. A step in
    // gain or a filter jump would show as a step far larger than that.
    let rate = 48_000.0;
    let frames = rate as usize;
    let x = sine(frames, rate, 150.0, 0.5);
    let clean_step = max_step(&x);
    let mut base = enabled();
    base.crossovers_hz = [60.0, 600.0, 6_000.0];
    base.bands[1].threshold_db = -22.0;
    base.bands[1].ratio = 8.0;
    base.bands[1].attack_ms = 2.0;
    let changes: Vec<(&str, MultibandSettings)> = vec![
        (
            "enable",
            MultibandSettings {
                enabled: false,
                ..base
            },
        ),
        ("threshold", {
            let mut s = base;
            s.bands[1].threshold_db = -2.0;
            s
        }),
        ("ratio", {
            let mut s = base;
            s.bands[1].ratio = 1.0;
            s
        }),
        ("makeup", {
            let mut s = base;
            s.bands[1].makeup_db = 12.0;
            s
        }),
        ("bypass", {
            let mut s = base;
            s.bands[1].bypass = true;
            s
        }),
        ("solo", {
            let mut s = base;
            s.bands[0].solo = true;
            s
        }),
        (
            "mode",
            MultibandSettings {
                mode: StereoMode::MidSide,
                ..base
            },
        ),
        (
            "detection",
            MultibandSettings {
                detection: Detection::Rms,
                ..base
            },
        ),
        (
            "crossover",
            MultibandSettings {
                crossovers_hz: [250.0, 600.0, 6_000.0],
                ..base
            },
        ),
    ];
    for (what, changed) in changes {
        // Both directions, switched mid-cycle.
        for (a, b) in [(base, changed), (changed, base)] {
            let input = vec![x.clone(), sine(frames, rate, 150.0, 0.1)];
            let out = run_scheduled(&input, rate, &[(0, a), (frames / 2 + 77, b)], &[256]);
            let step = max_step(&out[0][frames / 4..]);
            assert!(
                step < 1.25 * clean_step,
                "{what}: step {step} vs sine's {clean_step}"
            );
        }
    }
}
