//! The stage amounts (issue 6, item 1): the tonal EQ's `eq.amount_pct` scales every gain and
//! the tilt in dB, the multiband compressor's `multiband.amount_pct` every band's gain
//! reduction in dB. Checked: 0 % is the stage flat (EQ) or without compression (multiband),
//! bit for bit; 100 % is the stage as set, bit for bit; 50 % is half the dB at a bell's
//! centre and half the gain reduction of a steady tone; the amount glides without a click and
//! any block split gives the same output while it moves; files without the keys load at 100 %.

use std::f64::consts::PI;

use lathe::dsp::eq::{EqSettings, HpMode, TonalEq};
use lathe::dsp::multiband::{Detection, Multiband, MultibandSettings};
use lathe::dsp::ChainSettings;

const RATES: [f32; 3] = [44_100.0, 96_000.0, 192_000.0];

fn sine(freq: f64, fs: f64, amp: f64, frames: usize) -> Vec<f32> {
    (0..frames)
        .map(|n| (amp * (2.0 * PI * freq * n as f64 / fs).sin()) as f32)
        .collect()
}

/// Deterministic xorshift noise in [-0.5, 0.5).
fn noise(frames: usize, seed: u64) -> Vec<f32> {
    let mut x = seed | 1;
    (0..frames)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            0.5 * ((x >> 40) as f32 / (1u64 << 23) as f32 - 1.0)
        })
        .collect()
}

/// Amplitude of the `freq` component of `x[start..]`, by a least-squares fit of a·sin + b·cos.
fn fitted_amplitude(x: &[f32], start: usize, freq: f64, fs: f64) -> f64 {
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &y) in x.iter().enumerate().skip(start) {
        let (s, c) = (2.0 * PI * freq * n as f64 / fs).sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += f64::from(y) * s;
        yc += f64::from(y) * c;
    }
    let det = ss * cc - sc * sc;
    ((ys * cc - yc * sc) / det).hypot((yc * ss - ys * sc) / det)
}

fn db(x: f64) -> f64 {
    20.0 * x.log10()
}

// ---------------------------------------------------------------------------------------
// The tonal EQ.

/// Every gain working (high-pass off, so 0 % can be the identity), all within half their
/// range so that doubling them stays in range.
fn eq_busy(amount_pct: f32) -> EqSettings {
    let mut s = EqSettings {
        amount_pct,
        tilt_db: -1.5,
        ..Default::default()
    };
    s.low_shelf.gain_db = 3.0;
    s.bells[0].gain_db = -4.0;
    s.bells[1].gain_db = 5.0;
    s.bells[2].gain_db = 2.5;
    s.high_shelf.gain_db = -6.0;
    s
}

/// `s` with every gain and the tilt multiplied by `k`, at 100 %.
fn eq_scaled(s: &EqSettings, k: f32) -> EqSettings {
    let mut t = *s;
    t.amount_pct = 100.0;
    t.tilt_db *= k;
    t.low_shelf.gain_db *= k;
    t.high_shelf.gain_db *= k;
    for b in &mut t.bells {
        b.gain_db *= k;
    }
    t
}

fn eq_run(fs: f32, input: &[Vec<f32>], s: &EqSettings) -> Vec<Vec<f32>> {
    let mut out = input.to_vec();
    let mut eq = TonalEq::new(fs, 2);
    let mut refs: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[..]).collect();
    eq.process(&mut refs, s);
    out
}

#[test]
fn eq_amount_zero_is_the_identity_bit_for_bit() {
    for fs in RATES {
        let input = vec![noise(20_000, 1), noise(20_000, 2)];
        assert!(
            eq_run(fs, &input, &eq_busy(0.0)) == input,
            "{fs} Hz: 0 % changed the signal"
        );
        // Turned down to 0 % while playing: once the glide has landed, the identity again.
        let mut eq = TonalEq::new(fs, 2);
        let mut warm = [noise(fs as usize / 2, 3), noise(fs as usize / 2, 4)];
        let (l, r) = warm.split_at_mut(1);
        eq.process(&mut [&mut l[0][..], &mut r[0][..]], &eq_busy(100.0));
        let mut settle = [noise(fs as usize / 2, 5), noise(fs as usize / 2, 6)];
        let (l, r) = settle.split_at_mut(1);
        eq.process(&mut [&mut l[0][..], &mut r[0][..]], &eq_busy(0.0));
        let mut out = input.clone();
        let (l, r) = out.split_at_mut(1);
        eq.process(&mut [&mut l[0][..], &mut r[0][..]], &eq_busy(0.0));
        assert!(
            out == input,
            "{fs} Hz: not the identity after gliding to 0 %"
        );
    }
    // The high-pass is not scaled: at 0 % it is all that is left.
    let mut hp = eq_busy(0.0);
    hp.hp_mode = HpMode::Slope12;
    let only_hp = EqSettings {
        hp_mode: HpMode::Slope12,
        ..Default::default()
    };
    let input = vec![noise(20_000, 7), noise(20_000, 8)];
    assert_eq!(
        eq_run(48_000.0, &input, &hp),
        eq_run(48_000.0, &input, &only_hp)
    );
}

#[test]
fn eq_amount_is_an_exact_factor_on_the_db_gains() {
    // 100 % is the EQ as set: the factor is exactly 1.0. 50 % of doubled gains is the gains
    // at 100 %, bit for bit: the amount multiplies the dB gains before the design and does
    // nothing else, so at 100 % the filters are those of the gains alone.
    for fs in RATES {
        let input = vec![noise(30_000, 9), noise(30_000, 10)];
        let full = eq_run(fs, &input, &eq_busy(100.0));
        let louder = eq_run(fs, &input, &eq_scaled(&eq_busy(100.0), 2.0));
        assert!(louder != full, "doubling the gains must change the sound");
        let mut doubled = eq_scaled(&eq_busy(100.0), 2.0);
        doubled.amount_pct = 50.0;
        assert!(
            eq_run(fs, &input, &doubled) == full,
            "{fs} Hz: 50 % of doubled gains is not the gains at 100 %"
        );
    }
    // A file and a saved state from before the amount existed load at 100 %.
    let old: EqSettings = toml::from_str("tilt_db = 1.0\n[[bells]]\ngain_db = 2.0\n").unwrap();
    assert_eq!(old.amount_pct, 100.0);
    let chain =
        ChainSettings::from_toml("[eq]\ntilt_db = 1.0\n[multiband]\nenabled = true\n").unwrap();
    assert_eq!(chain.eq.amount_pct, 100.0);
    assert_eq!(chain.multiband.amount_pct, 100.0);
    // And the keys are written, read back and validated by name.
    let mut s = ChainSettings::default();
    s.eq.amount_pct = 37.5;
    s.multiband.amount_pct = 142.0;
    let text = s.to_toml();
    assert!(text.contains("amount_pct = 37.5"), "{text}");
    assert_eq!(ChainSettings::from_toml(&text).unwrap(), s);
    let e = ChainSettings::from_toml("[eq]\namount_pct = 151.0\n").unwrap_err();
    assert!(e.to_string().contains("eq.amount_pct"), "{e}");
    let e = ChainSettings::from_toml("[multiband]\namount_pct = -1.0\n").unwrap_err();
    assert!(e.to_string().contains("multiband.amount_pct"), "{e}");
}

#[test]
fn eq_amount_50_is_half_the_db_at_a_bell_centre_and_150_is_one_and_a_half() {
    // A bell's gain at its centre is its dB gain (constant-Q, matched design); the other
    // bands are far enough away, so measure bell 2 alone: +10 dB at 1 kHz.
    for fs in RATES {
        let f64s = f64::from(fs);
        let frames = fs as usize;
        let x = sine(1_000.0, f64s, 0.05, frames);
        for (amount, want_db) in [(50.0f32, 5.0f64), (100.0, 10.0), (150.0, 15.0), (0.0, 0.0)] {
            let mut s = EqSettings {
                amount_pct: amount,
                ..Default::default()
            };
            s.bells[1].gain_db = 10.0;
            let y = eq_run(fs, std::slice::from_ref(&x), &s);
            let got = db(fitted_amplitude(&y[0], frames / 2, 1_000.0, f64s)
                / fitted_amplitude(&x, frames / 2, 1_000.0, f64s));
            eprintln!("{fs} Hz, {amount} %: {got:.4} dB at 1 kHz");
            assert!(
                (got - want_db).abs() < 0.01,
                "{fs} Hz, {amount} %: {got} dB"
            );
            // The editor's curve is the same scaled response.
            let curve = f64::from(TonalEq::magnitude_db(&s, fs, 1_000.0));
            assert!((curve - want_db).abs() < 0.01, "curve {curve}");
        }
        // The whole busy curve at 50 % is the curve of the halved gains, everywhere.
        for f in [30.0f32, 100.0, 250.0, 1_000.0, 4_000.0, 10_000.0, 18_000.0] {
            let a = TonalEq::magnitude_db(&eq_busy(50.0), fs, f);
            let b = TonalEq::magnitude_db(&eq_scaled(&eq_busy(100.0), 0.5), fs, f);
            assert_eq!(a, b, "{fs} Hz at {f} Hz");
        }
    }
}

#[test]
fn eq_amount_glides_without_a_click_and_any_block_split_agrees() {
    let fs = 48_000.0f32;
    let f64s = f64::from(fs);
    let frames = 48_000;
    let amp = 0.25;
    let x = sine(1_000.0, f64s, amp, frames);
    let mut s = EqSettings::default();
    s.bells[1].gain_db = 12.0;
    // 0 % to 150 % in one jump, a third of the way in.
    let schedule = |n: usize| {
        let mut t = s;
        t.amount_pct = if n < frames / 3 { 0.0 } else { 150.0 };
        t
    };
    let run = |block: &dyn Fn(usize) -> usize| {
        let mut eq = TonalEq::new(fs, 1);
        let mut y = x.clone();
        let mut pos = 0;
        let mut k = 0;
        while pos < frames {
            let mut end = pos.saturating_add(block(k)).min(frames);
            if pos < frames / 3 {
                end = end.min(frames / 3);
            }
            eq.process(&mut [&mut y[pos..end]], &schedule(pos));
            pos = end;
            k += 1;
        }
        y
    };
    let one = run(&|_| usize::MAX);
    let odd = run(&|k| [1usize, 7, 64, 333, 4096, 16][k % 6]);
    assert!(one == odd, "block splits disagree while the amount glides");
    // The largest sample step stays that of the loudest steady sine (18 dB up), as it would
    // if the gain had always been there: no step from the change itself.
    let steepest = amp * 10f64.powf(18.0 / 20.0) * 2.0 * (PI * 1_000.0 / f64s).sin();
    let max_step = one
        .windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max);
    eprintln!(
        "amount jump: max step / steepest steady step = {:.4}",
        max_step / steepest
    );
    assert!(max_step / steepest < 1.02, "{}", max_step / steepest);
}

// ---------------------------------------------------------------------------------------
// The multiband compressor.

/// Crossovers at 100 Hz, 200 Hz and 8 kHz, so a 1 kHz tone sits in band 3 (-0.016 dB of
/// crossover skirt); band 3 at 4:1, hard knee, -20 dB threshold, peak detection.
fn mb_band3(amount_pct: f32) -> MultibandSettings {
    let mut s = MultibandSettings {
        enabled: true,
        crossovers_hz: [100.0, 200.0, 8_000.0],
        detection: Detection::Peak,
        amount_pct,
        ..Default::default()
    };
    let b = &mut s.bands[2];
    b.threshold_db = -20.0;
    b.ratio = 4.0;
    b.knee_db = 0.0;
    b.attack_ms = 5.0;
    b.release_ms = 100.0;
    s
}

fn mb_run(fs: f32, input: &[Vec<f32>], s: &MultibandSettings) -> (Vec<Vec<f32>>, Multiband) {
    let mut out = input.to_vec();
    let mut mb = Multiband::new(fs, 2);
    let (l, r) = out.split_at_mut(1);
    mb.process(&mut [&mut l[0][..], &mut r[0][..]], s);
    (out, mb)
}

/// Steady-state gain reduction of band 3 (meter, dB) and the output's level change at 1 kHz
/// (dB) for a 1 kHz sine peaking 10 dB over the threshold.
fn mb_steady(fs: f32, s: &MultibandSettings) -> (f64, f64) {
    let frames = fs as usize * 2;
    let x = sine(1_000.0, f64::from(fs), 10f64.powf(-0.5), frames);
    let input = vec![x.clone(), x.clone()];
    let last = frames - fs as usize / 10;
    let mut mb = Multiband::new(fs, 2);
    let mut out = input.clone();
    let (l, r) = out.split_at_mut(1);
    mb.process(&mut [&mut l[0][..last], &mut r[0][..last]], s);
    mb.process(&mut [&mut l[0][last..], &mut r[0][last..]], s);
    let gr = f64::from(mb.gain_reduction_db()[2]);
    let f64s = f64::from(fs);
    let level =
        db(fitted_amplitude(&out[0], last, 1_000.0, f64s)
            / fitted_amplitude(&x, last, 1_000.0, f64s));
    (gr, level)
}

#[test]
fn multiband_amount_scales_the_gain_reduction_of_a_steady_tone() {
    for fs in RATES {
        let (gr100, level100) = mb_steady(fs, &mb_band3(100.0));
        let (gr50, level50) = mb_steady(fs, &mb_band3(50.0));
        let (gr150, level150) = mb_steady(fs, &mb_band3(150.0));
        let (gr0, level0) = mb_steady(fs, &mb_band3(0.0));
        eprintln!(
            "{fs} Hz: GR 100 % {gr100:.3} dB ({level100:.3}), 50 % {gr50:.3} ({level50:.3}), \
             150 % {gr150:.3} ({level150:.3}), 0 % {gr0:.3} ({level0:.3})"
        );
        // 10 dB over at 4:1 takes 7.5 dB (tests/multiband.rs checks the figure itself).
        assert!((gr100 + 7.5).abs() < 0.2, "{gr100}");
        // Half the amount, half the gain reduction in dB, on the meter and at the output.
        assert!((gr50 - gr100 / 2.0).abs() < 0.02, "50 %: {gr50} vs {gr100}");
        assert!((level50 - level100 / 2.0).abs() < 0.05, "50 %: {level50}");
        // 150 % of 4:1 would be a slope of 1.125; it stops at ∞:1, the whole 10 dB.
        assert!((gr150 + 10.0).abs() < 0.2, "150 %: {gr150}");
        assert!((level150 + 10.0).abs() < 0.2, "150 %: {level150}");
        // 0 %: no compression at all.
        assert_eq!(gr0, 0.0);
        assert!(level0.abs() < 0.02, "0 %: {level0}");
    }
    // Under the cap, 150 % is one and a half times the gain reduction: 2:1 takes 5 dB of
    // 10 dB over; 150 % takes 7.5.
    let mut two = mb_band3(100.0);
    two.bands[2].ratio = 2.0;
    let (gr100, _) = mb_steady(48_000.0, &two);
    two.amount_pct = 150.0;
    let (gr150, _) = mb_steady(48_000.0, &two);
    assert!((gr150 - 1.5 * gr100).abs() < 0.03, "{gr150} vs {gr100}");
}

/// Every band compressing music-like noise hard, with makeup.
fn mb_busy(amount_pct: f32) -> MultibandSettings {
    let mut s = MultibandSettings {
        enabled: true,
        amount_pct,
        ..Default::default()
    };
    for (i, b) in s.bands.iter_mut().enumerate() {
        b.threshold_db = -30.0 + 3.0 * i as f32;
        b.ratio = 2.0 + 2.0 * i as f32;
        b.knee_db = 3.0 * i as f32;
        b.attack_ms = 1.0 + 5.0 * i as f32;
        b.makeup_db = 2.0 - i as f32;
    }
    s
}

#[test]
fn multiband_amount_zero_is_no_compression_and_keeps_the_makeup() {
    for fs in RATES {
        let input = vec![noise(30_000, 11), noise(30_000, 12)];
        // 0 % is every band at 1:1 with its makeup, bit for bit: a static multiband gain.
        let mut one_to_one = mb_busy(100.0);
        for b in &mut one_to_one.bands {
            b.ratio = 1.0;
        }
        let (zero, mb) = mb_run(fs, &input, &mb_busy(0.0));
        assert!(zero == mb_run(fs, &input, &one_to_one).0, "{fs} Hz");
        assert_eq!(mb.gain_reduction_db(), [0.0; 4]);
        // Without makeup, 0 % is the neutral stage: the crossovers' flat allpass sum.
        let mut no_makeup = mb_busy(0.0);
        for b in &mut no_makeup.bands {
            b.makeup_db = 0.0;
        }
        let neutral = MultibandSettings {
            enabled: true,
            ..Default::default()
        };
        assert!(
            mb_run(fs, &input, &no_makeup).0 == mb_run(fs, &input, &neutral).0,
            "{fs} Hz"
        );
        // And 100 % compresses (the amount is not stuck at 0).
        assert!(mb_run(fs, &input, &mb_busy(100.0)).0 != zero);
    }
}

#[test]
fn multiband_amount_moves_without_a_click_and_any_block_split_agrees() {
    let fs = 48_000.0f32;
    let frames = 48_000;
    let x = sine(1_000.0, f64::from(fs), 10f64.powf(-0.5), frames);
    let settings = |n: usize| mb_band3(if n < frames / 2 { 0.0 } else { 150.0 });
    let run = |block: &dyn Fn(usize) -> usize| {
        let mut mb = Multiband::new(fs, 2);
        let mut y = vec![x.clone(), x.clone()];
        let (mut pos, mut k) = (0, 0);
        while pos < frames {
            let mut end = pos.saturating_add(block(k)).min(frames);
            if pos < frames / 2 {
                end = end.min(frames / 2);
            }
            let (l, r) = y.split_at_mut(1);
            mb.process(
                &mut [&mut l[0][pos..end], &mut r[0][pos..end]],
                &settings(pos),
            );
            pos = end;
            k += 1;
        }
        y
    };
    let one = run(&|_| usize::MAX);
    let odd = run(&|k| [1usize, 5, 64, 1000, 3, 8192][k % 6]);
    assert!(one == odd, "block splits disagree while the amount moves");
    // 0 % to 150 % at once: the gain falls by 10 dB over the 5 ms attack, not in a step. A
    // sample step is then the sine's own step times the gain plus the sine times the gain's
    // fall per sample (at most about 3 % of the sine's steepest step here: 1.034 measured); a
    // click would be many times the sine's step. tests/multiband.rs allows 1.25 for switches.
    let steepest = 10f64.powf(-0.5) * 2.0 * (PI * 1_000.0 / f64::from(fs)).sin();
    let max_step = one[0]
        .windows(2)
        .map(|w| f64::from((w[1] - w[0]).abs()))
        .fold(0.0, f64::max);
    eprintln!(
        "multiband amount jump: max step / steepest = {:.4}",
        max_step / steepest
    );
    assert!(max_step / steepest < 1.1, "{}", max_step / steepest);
}
