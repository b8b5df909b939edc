//! Hostile audio through the whole chain (issue 8 item 2): NaN, ±Inf, subnormals, finite
//! values up to f32::MAX, DC and square waves at full scale and beyond, in blocks of 0, 1 and
//! up to 8192 frames, under random settings drawn from every control's whole range, at every
//! sample rate, mono and stereo. What must hold:
//!
//! - the output is finite and never subnormal, and under the ceiling: every sample, and the
//!   true peak as ebur128 reads it (ITU-R BS.1770-4 Annex 2), which is the limiter's own
//!   promise (`limiter.rs`, `tests/limiter_ceiling.rs`);
//! - no state sticks: every hostile sample is dealt with at the door (`dsp/sanitize.rs`: NaN
//!   and ±Inf become 0, subnormals 0, magnitudes over +120 dBFS are clipped there), so the
//!   output is bit-identical to that of the signal sanitised beforehand; and after any input,
//!   silence in comes out as exact silence once the filters have decayed;
//! - no stage keeps a subnormal number in its state (read from the chain's `Debug` dump).
//!   Subnormal arithmetic costs x86 cores up to ~100x per operation, so this, not a timing,
//!   is what "CPU does not jump on denormals" asserts; `cargo bench --bench chain` compares
//!   the time of subnormal-heavy and ordinary input.
//!
//! Already covered elsewhere, not repeated here: the ceiling on clean signals under random
//! limiter settings (`limiter_ceiling.rs`), block-size invariance, hostile samples in music
//! at fixed settings and tiny decaying tails (`dsp_contracts.rs`), per-stage state checks
//! (`eq.rs`, `multiband.rs`).

mod common;

use common::{busy_settings, ebur128_true_peak_dbtp, music_like, Rng, SAMPLE_RATES};
use lathe::dsp::eq::{
    HpMode, BELL_FREQ_HZ, BELL_Q, EQ_GAIN_DB, HIGH_SHELF_FREQ_HZ, HP_FREQ_HZ, LOW_SHELF_FREQ_HZ,
    SHELF_Q, TILT_DB,
};
use lathe::dsp::learn::{LEARNED_GAIN_DB, TARGET_LUFS};
use lathe::dsp::multiband::{
    Detection, StereoMode, BAND_ATTACK_MS, BAND_KNEE_DB, BAND_MAKEUP_DB, BAND_RATIO,
    BAND_RELEASE_MS, BAND_THRESHOLD_DB, CROSSOVERS_HZ,
};
use lathe::dsp::platforms::Platform;
use lathe::dsp::sanitize::sanitize;
use lathe::dsp::settings::{
    ParamRange, CEILING_DBTP, DRIVE_DB, LOOKAHEAD_MS, MONO_BELOW_HZ, OUTPUT_GAIN_DB, RELEASE_MS,
    TRIM_DB, WIDTH_PCT,
};
use lathe::dsp::{Chain, ChainSettings, Meters};
use proptest::prelude::*;

/// Draws settings from every control's whole range, from a list of unit values (0..=1) and
/// switches. Frequencies and times spread logarithmically, so the low end gets its share.
fn settings_from(unit: &[f32], switch: &[bool]) -> ChainSettings {
    let mut u = unit.iter().copied().cycle();
    let mut b = switch.iter().copied().cycle();
    let mut lin = |r: ParamRange| r.min + u.next().unwrap_or(0.5) * (r.max - r.min);
    let mut s = ChainSettings::default();
    s.input.trim_db = lin(TRIM_DB);
    s.stereo.width_pct = lin(WIDTH_PCT);
    s.limiter.drive_db = lin(DRIVE_DB);
    s.limiter.ceiling_dbtp = lin(CEILING_DBTP);
    s.output.gain_db = lin(OUTPUT_GAIN_DB);
    s.eq.tilt_db = lin(TILT_DB);
    s.eq.low_shelf.gain_db = lin(EQ_GAIN_DB);
    s.eq.high_shelf.gain_db = lin(EQ_GAIN_DB);
    for bell in &mut s.eq.bells {
        bell.gain_db = lin(EQ_GAIN_DB);
    }
    for band in &mut s.multiband.bands {
        band.threshold_db = lin(BAND_THRESHOLD_DB);
        band.knee_db = lin(BAND_KNEE_DB);
        band.makeup_db = lin(BAND_MAKEUP_DB);
    }
    s.target.lufs = lin(TARGET_LUFS);
    s.target.learned_gain_db = lin(LEARNED_GAIN_DB);
    let last = Platform::ALL.len() - 1;
    s.target.preset = Platform::ALL[(u.next().unwrap_or(0.0) * last as f32).round() as usize];
    let mut log = |r: ParamRange| r.min * (r.max / r.min).powf(u.next().unwrap_or(0.5));
    s.stereo.mono_below_hz = log(MONO_BELOW_HZ);
    s.limiter.lookahead_ms = log(LOOKAHEAD_MS);
    s.limiter.release_ms = log(RELEASE_MS);
    s.eq.hp_freq_hz = log(HP_FREQ_HZ);
    s.eq.low_shelf.freq_hz = log(LOW_SHELF_FREQ_HZ);
    s.eq.low_shelf.q = log(SHELF_Q);
    s.eq.high_shelf.freq_hz = log(HIGH_SHELF_FREQ_HZ);
    s.eq.high_shelf.q = log(SHELF_Q);
    for (bell, range) in s.eq.bells.iter_mut().zip(BELL_FREQ_HZ) {
        bell.freq_hz = log(range);
        bell.q = log(BELL_Q);
    }
    for (hz, range) in s.multiband.crossovers_hz.iter_mut().zip(CROSSOVERS_HZ) {
        *hz = log(range);
    }
    for band in &mut s.multiband.bands {
        band.ratio = log(BAND_RATIO);
        band.attack_ms = log(BAND_ATTACK_MS);
        band.release_ms = log(BAND_RELEASE_MS);
    }
    let mut flag = || b.next().unwrap_or(false);
    s.stereo.mono_below = flag();
    s.limiter.auto_release = flag();
    s.multiband.enabled = flag();
    s.multiband.mode = if flag() {
        StereoMode::MidSide
    } else {
        StereoMode::Linked
    };
    s.multiband.detection = if flag() {
        Detection::Rms
    } else {
        Detection::Peak
    };
    for band in &mut s.multiband.bands {
        band.bypass = flag() && flag();
        band.solo = flag() && flag();
    }
    s.eq.hp_mode = HpMode::ALL[usize::from(flag()) + usize::from(flag())];
    s.target.learn = flag();
    // The A/B switch plays the (gain-matched) input instead of the master: not under the
    // ceiling by design, so it is tested on its own below.
    s.monitor.bypass = false;
    s
}

/// What one stretch of a hostile test signal holds.
#[derive(Debug, Clone, Copy)]
enum Piece {
    /// Noise and a few partials at `level` (linear, may be far over full scale).
    Music(f32),
    /// A constant value on every sample: full-scale DC, or beyond it.
    Dc(f32),
    /// A naive square wave of `level` and `period` samples.
    Square(f32, usize),
    Nan,
    PosInf,
    NegInf,
    /// Random subnormal numbers of both signs.
    Subnormal,
    /// Values at the top of f32's range, alternating sign.
    Huge,
    /// Music with NaN, ±Inf, subnormals and ±f32::MAX scattered through it.
    Scattered,
    Silence,
}

fn piece() -> impl Strategy<Value = Piece> {
    let level = prop_oneof![
        Just(1.0f32),
        Just(-1.0f32),
        -100.0f32..100.0,
        Just(1e30f32),
        Just(-f32::MAX),
    ];
    prop_oneof![
        level.clone().prop_map(Piece::Music),
        level.clone().prop_map(Piece::Dc),
        (level, 2usize..400).prop_map(|(l, p)| Piece::Square(l, p)),
        Just(Piece::Nan),
        Just(Piece::PosInf),
        Just(Piece::NegInf),
        Just(Piece::Subnormal),
        Just(Piece::Huge),
        Just(Piece::Scattered),
        Just(Piece::Silence),
    ]
}

/// Renders the pieces, each `len` frames long, into `channels` channels.
fn hostile_signal(pieces: &[(Piece, usize)], channels: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = Rng::new(seed);
    let mut out = vec![Vec::new(); channels];
    for &(piece, len) in pieces {
        for (c, ch) in out.iter_mut().enumerate() {
            let sign = if c == 0 { 1.0 } else { -1.0 };
            for n in 0..len {
                let music = || {
                    let t = n as f32;
                    0.5 * (t * 0.031).sin() + 0.3 * (t * 0.47 + c as f32).sin()
                };
                ch.push(match piece {
                    Piece::Music(level) => level * (music() + 0.2 * rng.bipolar()),
                    Piece::Dc(level) => level,
                    Piece::Square(level, period) => {
                        if (n / period.max(1)) % 2 == 0 {
                            level
                        } else {
                            -level * sign
                        }
                    }
                    Piece::Nan => f32::NAN,
                    Piece::PosInf => f32::INFINITY,
                    Piece::NegInf => f32::NEG_INFINITY,
                    Piece::Subnormal => {
                        let bits = 1 + rng.below(0x007F_FFFF) as u32;
                        f32::from_bits(bits) * rng.bipolar().signum()
                    }
                    Piece::Huge => {
                        if n % 2 == 0 {
                            f32::MAX
                        } else {
                            -f32::MAX
                        }
                    }
                    Piece::Scattered => match rng.below(16) {
                        0 => f32::NAN,
                        1 => f32::INFINITY,
                        2 => f32::NEG_INFINITY,
                        3 => f32::from_bits(1 + rng.below(0x007F_FFFF) as u32),
                        4 => f32::MAX * rng.bipolar().signum(),
                        _ => music(),
                    },
                    Piece::Silence => 0.0,
                });
            }
        }
    }
    out
}

/// Runs `input` through a fresh chain in the given block lengths (cycled; a 0 is a call with
/// empty slices; at least one must not be 0), returning the output and the chain.
fn run(
    input: &[Vec<f32>],
    rate: f32,
    settings: &ChainSettings,
    blocks: &[usize],
) -> (Vec<Vec<f32>>, Chain) {
    let mut chain = Chain::new();
    chain.prepare(rate, 8192);
    let mut out = input.to_vec();
    let frames = out[0].len();
    let mut meters = Meters::default();
    let (mut start, mut k) = (0, 0);
    while start < frames {
        let end = (start + blocks[k % blocks.len()]).min(frames);
        k += 1;
        let mut block: Vec<&mut [f32]> = out.iter_mut().map(|c| &mut c[start..end]).collect();
        chain.process(&mut block, settings, &mut meters);
        start = end;
    }
    (out, chain)
}

/// Runs a stereo buffer through `chain` in place, in blocks of `block` frames.
fn process_in_blocks(
    chain: &mut Chain,
    buf: &mut [Vec<f32>],
    block: usize,
    settings: &ChainSettings,
    meters: &mut Meters,
) {
    let [left, right] = buf else { panic!("stereo") };
    for (l, r) in left.chunks_mut(block).zip(right.chunks_mut(block)) {
        chain.process(&mut [l, r], settings, meters);
    }
}

/// Every float in the chain's state, read from its `Debug` dump (filters, envelopes, delay
/// lines, meters, the learner's records).
fn state_floats(chain: &Chain) -> Vec<f64> {
    format!("{chain:?}")
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .filter_map(|t| t.parse::<f64>().ok())
        .collect()
}

/// The first state value in f32's subnormal range, if any. (f64 state is held to the same
/// line, which is stricter than its own subnormal range needs.)
fn subnormal_state(chain: &Chain) -> Option<f64> {
    state_floats(chain)
        .into_iter()
        .find(|v| *v != 0.0 && v.abs() < f64::from(f32::MIN_POSITIVE))
}

fn is_clean(v: f32) -> bool {
    v.is_finite() && (v == 0.0 || v.abs() >= f32::MIN_POSITIVE)
}

/// The signal as the chain's door lets it in.
fn sanitised(input: &[Vec<f32>]) -> Vec<Vec<f32>> {
    let mut out = input.to_vec();
    for c in &mut out {
        sanitize(c);
    }
    out
}

/// Block lengths for a run: 0 (a call with empty slices), 1, short and long, and at least
/// one that is not 0 so the run moves on.
fn block_sizes() -> impl Strategy<Value = Vec<usize>> {
    (
        prop::collection::vec(
            prop_oneof![Just(0usize), Just(1usize), 2usize..64, 64usize..=8192],
            0..12,
        ),
        1usize..=8192,
    )
        .prop_map(|(mut blocks, last)| {
            blocks.push(last);
            blocks
        })
}

/// A unit value, with the ends of the range (where the extremes live) drawn often.
fn unit() -> impl Strategy<Value = f32> {
    prop_oneof![1 => Just(0.0f32), 1 => Just(1.0f32), 4 => 0.0f32..=1.0]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random hostile signals through random settings: finite, never subnormal, under the
    /// ceiling (samples and ebur128 true peak), no subnormal state, and no trace of the
    /// hostile samples beyond what the door made of them.
    #[test]
    fn hostile_signals_under_random_settings_stay_finite_and_under_the_ceiling(
        units in prop::collection::vec(unit(), 40..48),
        switches in prop::collection::vec(any::<bool>(), 16),
        pieces in prop::collection::vec((piece(), 1usize..6000), 1..8),
        blocks in block_sizes(),
        rate in prop::sample::select(SAMPLE_RATES.to_vec()),
        channels in 1usize..=2,
        seed in any::<u64>(),
    ) {
        let settings = settings_from(&units, &switches);
        let mut pieces = pieces;
        // Silence at the end flushes the look-ahead, so the whole signal is measured.
        pieces.push((Piece::Silence, rate as usize / 20));
        let input = hostile_signal(&pieces, channels, seed);
        let (out, chain) = run(&input, rate, &settings, &blocks);

        for (c, ch) in out.iter().enumerate() {
            if let Some(i) = ch.iter().position(|v| !is_clean(*v)) {
                prop_assert!(false, "channel {c}, frame {i}: {:e}", ch[i]);
            }
        }
        let ceiling = settings.limiter.ceiling_dbtp;
        let ceiling_gain = 10f32.powf(ceiling / 20.0);
        let peak = out.iter().flatten().fold(0.0f32, |m, v| m.max(v.abs()));
        prop_assert!(peak <= ceiling_gain, "sample peak {peak} over {ceiling} dBTP");
        let tp = if channels == 2 {
            ebur128_true_peak_dbtp(&out, rate as u32)
        } else {
            ebur128_true_peak_dbtp(&[out[0].clone(), out[0].clone()], rate as u32)
        };
        prop_assert!(tp <= f64::from(ceiling), "true peak {tp:.3} dBTP over {ceiling} dBTP");
        prop_assert_eq!(subnormal_state(&chain), None);

        // No trace of the non-finite and subnormal samples beyond that of zeros.
        let (expected, _) = run(&sanitised(&input), rate, &settings, &blocks);
        prop_assert!(out == expected, "hostile input left a trace beyond the door's");
    }

    /// The A/B switch plays the input at the master's loudness: not under the ceiling, but
    /// as finite and as free of subnormals as the master.
    #[test]
    fn hostile_signals_through_the_ab_bypass_stay_finite(
        units in prop::collection::vec(unit(), 40..48),
        switches in prop::collection::vec(any::<bool>(), 16),
        pieces in prop::collection::vec((piece(), 1usize..4000), 1..6),
        blocks in block_sizes(),
        seed in any::<u64>(),
    ) {
        let mut settings = settings_from(&units, &switches);
        settings.monitor.bypass = true;
        let input = hostile_signal(&pieces, 2, seed);
        let (out, chain) = run(&input, 48_000.0, &settings, &blocks);
        prop_assert!(out.iter().flatten().all(|v| is_clean(*v)));
        prop_assert_eq!(subnormal_state(&chain), None);
    }
}

/// The settings under which silence takes longest to come back: every EQ band boosted 12 dB
/// at 20 Hz, the bells at Q 10 (the slowest-decaying poles the chain can have), the 24 dB/oct
/// high-pass at 10 Hz, crossovers and mono-below at the bottom of their ranges, every gain at
/// its top, the slowest releases.
fn slowest_decay() -> ChainSettings {
    let mut s = ChainSettings::default();
    s.input.trim_db = TRIM_DB.max;
    s.eq.hp_mode = HpMode::Slope24;
    s.eq.hp_freq_hz = HP_FREQ_HZ.min;
    s.eq.low_shelf.freq_hz = LOW_SHELF_FREQ_HZ.min;
    s.eq.low_shelf.gain_db = EQ_GAIN_DB.max;
    s.eq.low_shelf.q = SHELF_Q.max;
    for bell in &mut s.eq.bells {
        bell.freq_hz = 20.0;
        bell.gain_db = EQ_GAIN_DB.max;
        bell.q = BELL_Q.max;
    }
    s.eq.high_shelf.gain_db = EQ_GAIN_DB.max;
    s.eq.high_shelf.q = SHELF_Q.max;
    s.eq.tilt_db = TILT_DB.min;
    s.multiband.enabled = true;
    s.multiband.crossovers_hz = [20.0, 40.0, 80.0];
    for band in &mut s.multiband.bands {
        band.threshold_db = BAND_THRESHOLD_DB.min;
        band.ratio = BAND_RATIO.max;
        band.makeup_db = BAND_MAKEUP_DB.max;
        band.attack_ms = BAND_ATTACK_MS.max;
        band.release_ms = BAND_RELEASE_MS.max;
    }
    s.stereo.width_pct = WIDTH_PCT.max;
    s.stereo.mono_below = true;
    s.stereo.mono_below_hz = MONO_BELOW_HZ.min;
    s.limiter.drive_db = DRIVE_DB.max;
    s.limiter.lookahead_ms = LOOKAHEAD_MS.max;
    s.limiter.release_ms = RELEASE_MS.max;
    s.target.learned_gain_db = LEARNED_GAIN_DB.max;
    s
}

/// [`slowest_decay`] without the stages whose filters treat -200 dBFS as silence (the band
/// splitter, mono-below): the EQ's tail is the longest there is.
fn slowest_eq_alone() -> ChainSettings {
    let mut s = slowest_decay();
    s.multiband.enabled = false;
    s.stereo.mono_below = false;
    s
}

/// Bound for [`slowest_eq_alone`], s: from a state near 1e8 to 1e-30 is 760 dB, 28 s at
/// 27 dB/s (measured 27.6 s at 44.1 kHz, 25.1 s at 192 kHz).
const EQ_ALONE_S: f32 = 30.0;

/// Half a second of the worst there is (NaN, ±Inf, f32::MAX, full-scale squares and DC, +120
/// dBFS), then silence: the output is finite and never subnormal throughout, no state is
/// ever subnormal, and the silence comes out as exact zeros: at once at the default settings
/// (nothing but the look-ahead delay holds audio, and the transient clipper's last cut,
/// spread by its kernel over `HALF_TAPS` samples more), within 1 s with every stage working
/// (measured 0.46 to 0.49 s), within 15 s with every stage at its slowest (measured 12.3 to
/// 12.8 s: 20 Hz bells at Q 10 boosted 12 dB ring down at about 27 dB/s from a state near 1e8
/// to the band splitter's -200 dBFS floor), and within 30 s with those bells alone, whose
/// tail runs on down to the EQ's own -600 dBFS floor (EQ_ALONE_S below).
#[test]
fn after_any_burst_silence_comes_back_as_exact_silence() {
    for rate in [44_100.0f32, 192_000.0] {
        for (name, settings, within_s) in [
            ("default", ChainSettings::default(), None),
            ("busy", busy_settings(), Some(1.0)),
            ("slowest decay", slowest_decay(), Some(15.0)),
            ("slowest EQ alone", slowest_eq_alone(), Some(EQ_ALONE_S)),
        ] {
            let mut chain = Chain::new();
            chain.prepare(rate, 4096);
            let latency = chain.latency_samples();
            let burst = rate as usize / 2;
            let within = within_s.map_or(latency + lathe::dsp::clipper::HALF_TAPS, |s: f32| {
                (s * rate) as usize
            });
            let total = burst + within + rate as usize;
            let mut meters = Meters::default();
            let mut last_sound = 0;
            let mut next_check = 0;
            let mut pos = 0;
            while pos < total {
                let n = 4096.min(total - pos);
                let mut block: Vec<Vec<f32>> = (0..2)
                    .map(|c| {
                        (pos..pos + n)
                            .map(|i| match (i < burst, i % 6) {
                                (false, _) => 0.0,
                                (true, 0) => f32::NAN,
                                (true, 1) => f32::INFINITY * if c == 0 { 1.0 } else { -1.0 },
                                (true, 2) => f32::MAX,
                                (true, 3) => -1e6,
                                (true, _) => 1.0,
                            })
                            .collect()
                    })
                    .collect();
                let mut slices: Vec<&mut [f32]> = block.iter_mut().map(|c| &mut c[..]).collect();
                chain.process(&mut slices, &settings, &mut meters);
                for ch in &block {
                    for (k, &v) in ch.iter().enumerate() {
                        assert!(is_clean(v), "{name} at {rate} Hz, frame {}: {v:e}", pos + k);
                        if v != 0.0 {
                            last_sound = last_sound.max(pos + k);
                        }
                    }
                }
                pos += n;
                if pos >= next_check {
                    if let Some(v) = subnormal_state(&chain) {
                        let dump = format!("{chain:?}");
                        let at = dump.find(&format!("{v:?}")).unwrap_or(0);
                        eprintln!(
                            "{}",
                            &dump[at.saturating_sub(1500)..(at + 200).min(dump.len())]
                        );
                    }
                    assert_eq!(subnormal_state(&chain), None, "{name} at {rate} Hz, {pos}");
                    next_check += rate as usize;
                }
            }
            eprintln!(
                "{name} at {rate} Hz: exact silence {:.2} s after the burst",
                last_sound.saturating_sub(burst) as f32 / rate
            );
            assert!(
                last_sound < burst + within,
                "{name} at {rate} Hz: sound {:.2} s after the burst",
                (last_sound - burst) as f32 / rate
            );
        }
    }
}

/// An hour of silence at 48 kHz between two stretches of music, through the stages that run
/// in every session (input and output meters, the limiter working, the gains): the output
/// stays exact zeros once the music has passed, no state turns subnormal at any point, and
/// the music after the hour comes out bit-identical to what a chain that heard nothing but
/// 10 s of silence makes of it, so nothing of the first stretch or of the hour stayed
/// behind. (The filter stages reach exact
/// zeros within 30 s of silence, see above; from there silence in is a fixed point of them, so
/// they are not run for the hour, which would take them a minute.)
#[test]
fn an_hour_of_silence_comes_out_as_exact_silence_and_leaves_no_trace() {
    let rate = 48_000.0f32;
    let mut settings = ChainSettings::default();
    settings.limiter.drive_db = 8.0;
    let music = music_like(2 * rate as usize, rate, 0.9, 17);
    let hour = 3600 * rate as usize;
    let block = 4096;

    let mut chain = Chain::new();
    chain.prepare(rate, block);
    let latency = chain.latency_samples();
    let mut meters = Meters::default();
    let mut first = music.clone();
    process_in_blocks(&mut chain, &mut first, block, &settings, &mut meters);
    assert!(first.iter().flatten().all(|v| is_clean(*v)));
    let (mut left, mut right) = (vec![0.0f32; block], vec![0.0f32; block]);
    let mut done = 0;
    while done < hour {
        let n = block.min(hour - done);
        left[..n].fill(0.0);
        right[..n].fill(0.0);
        chain.process(
            &mut [&mut left[..n], &mut right[..n]],
            &settings,
            &mut meters,
        );
        if done >= latency {
            assert!(
                left[..n].iter().chain(&right[..n]).all(|&v| v == 0.0),
                "sound {:.1} s into the silence",
                done as f32 / rate
            );
        } else {
            assert!(left[..n].iter().chain(&right[..n]).all(|v| is_clean(*v)));
        }
        done += n;
        if done % (300 * rate as usize) < block {
            assert_eq!(subnormal_state(&chain), None, "{:.0} s", done as f32 / rate);
        }
    }
    assert!(meters.output_loudness.integrated_lufs.is_finite());

    let mut after = music.clone();
    process_in_blocks(&mut chain, &mut after, block, &settings, &mut meters);
    // The reference: a chain that only ever heard 10 s of silence (its gains have settled
    // from their start-up glides, as the other's have), then the music.
    let mut settled = Chain::new();
    settled.prepare(rate, block);
    let mut silence = vec![vec![0.0f32; 10 * rate as usize]; 2];
    process_in_blocks(
        &mut settled,
        &mut silence,
        block,
        &settings,
        &mut Meters::default(),
    );
    let mut expected = music;
    process_in_blocks(
        &mut settled,
        &mut expected,
        block,
        &settings,
        &mut Meters::default(),
    );
    if after != expected {
        for c in 0..2 {
            let first = after[c].iter().zip(&expected[c]).position(|(a, b)| a != b);
            let diff = common::max_difference_db(&after[c], &expected[c]);
            eprintln!("channel {c}: first difference at {first:?}, max {diff:.1} dBFS");
        }
    }
    assert!(
        after == expected,
        "the hour left a trace in the music after it"
    );
}
