//! LUFS targeting: Learn lands the master on its target, on real music, played through the
//! chain in host-sized blocks the way a DAW plays it; and the meters say what each platform
//! will do to the master.
//!
//! The programs are song-shaped: the excerpts in tests/data looped, with a quiet intro and a
//! quieter bridge, so the learner meets what makes a song hard (its loudness changes while it
//! plays). Each learned gain is checked by rendering the master offline with it (learn off,
//! the gain in the settings, as a settings export would) and measuring the result with the
//! ebur128 crate (ITU-R BS.1770-4, exact gating).
#![cfg(feature = "render")]

use std::path::Path;

use lathe::dsp::learn::{LearnState, MAX_STEP_DB};
use lathe::dsp::platforms::{Platform, PLATFORM_COUNT};
use lathe::dsp::{Chain, ChainSettings, Meters};

/// Host block lengths, cycled: the common 512, odd ones, a tiny one.
const HOST_BLOCKS: [usize; 5] = [512, 441, 1024, 7, 300];

fn decode(name: &str) -> (Vec<Vec<f32>>, u32) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let audio = lathe::render::decode::decode_file(&path)
        .unwrap_or_else(|e| panic!("decoding {}: {e}", path.display()));
    (audio.channels, audio.sample_rate)
}

/// A song from an excerpt: a quiet intro, verses, a quieter bridge, the last choruses.
/// `sections` are (gain, repeats).
fn song(excerpt: &[Vec<f32>], sections: &[(f32, usize)]) -> Vec<Vec<f32>> {
    excerpt
        .iter()
        .map(|ch| {
            sections
                .iter()
                .flat_map(|&(gain, reps)| {
                    (0..reps).flat_map(move |_| ch.iter().map(move |x| x * gain))
                })
                .collect()
        })
        .collect()
}

/// Plays `program` through `chain` in host-sized blocks; returns the output and the meters
/// after the last block.
fn play(
    chain: &mut Chain,
    program: &[Vec<f32>],
    settings: &ChainSettings,
    blocks: &[usize],
) -> (Vec<Vec<f32>>, Meters) {
    let mut out = program.to_vec();
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
    (out, meters)
}

/// Integrated loudness per the ebur128 crate (queue mode: exact BS.1770-4 gating).
fn integrated_lufs(channels: &[Vec<f32>], rate: u32) -> f64 {
    let mut m = ebur128::EbuR128::new(channels.len() as u32, rate, ebur128::Mode::I)
        .expect("ebur128 meter");
    let planar: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    m.add_frames_planar_f32(&planar).expect("frames");
    m.loudness_global().expect("integrated loudness")
}

/// Settings for a loud (club) master: a faster, harder limiter, the way such masters are
/// made. With the default 150 ms automatic release these excerpts top out near -11 LUFS.
fn loud_limiter(s: &mut ChainSettings) {
    s.limiter.ceiling_dbtp = -0.3;
    s.limiter.release_ms = 30.0;
    s.limiter.auto_release = false;
    s.limiter.lookahead_ms = 1.0;
}

struct Case {
    file: &'static str,
    sections: &'static [(f32, usize)],
    preset: Platform,
    loud: bool,
}

/// Learns twice (Learn on for a pass, off, on for another pass), measuring the master the
/// learned gain gives after each. Returns the two errors in LU and the learned gains.
fn learn_twice(case: &Case) -> ([f64; 2], [f32; 2]) {
    let (excerpt, rate) = decode(case.file);
    let program = song(&excerpt, case.sections);
    let mut settings = ChainSettings::default();
    settings.target.preset = case.preset;
    if case.loud {
        loud_limiter(&mut settings);
    }
    let target = settings.target.target_lufs() as f64;
    let mut chain = Chain::new();
    chain.prepare(rate as f32, 1024);
    let mut errors = [0.0; 2];
    let mut gains = [0.0; 2];
    for pass in 0..2 {
        // The transport goes back to the start (hosts reset the plugin on such jumps).
        chain.reset();
        settings.target.learn = true;
        let (_, meters) = play(&mut chain, &program, &settings, &HOST_BLOCKS);
        assert_eq!(
            meters.learn_state,
            LearnState::Learning,
            "{}: pass {pass}",
            case.file
        );
        // Learn off: the plugin keeps the learned gain in its state and hands it back.
        settings.target.learn = false;
        settings.target.learned_gain_db = meters.learned_gain_db;
        gains[pass] = meters.learned_gain_db;
        let master = lathe::render::master::master(&program, rate, &settings, |_| {});
        errors[pass] = integrated_lufs(&master, rate) - target;
    }
    (errors, gains)
}

#[test]
fn two_passes_of_learn_land_on_the_target() {
    // 80 s and 60 s: short songs, long enough for a verse-bridge-chorus shape.
    const FRANCIUM: &[(f32, usize)] = &[(0.4, 1), (1.0, 2), (0.6, 1), (1.0, 1)];
    const VIBE_ACE: &[(f32, usize)] = &[(0.4, 2), (1.0, 4), (0.6, 1), (1.0, 3)];
    let cases = [
        Case {
            file: "francium_excerpt.flac",
            sections: FRANCIUM,
            preset: Platform::Spotify,
            loud: false,
        },
        Case {
            file: "francium_excerpt.flac",
            sections: FRANCIUM,
            preset: Platform::CdClub,
            loud: true,
        },
        Case {
            file: "francium_excerpt.flac",
            sections: FRANCIUM,
            preset: Platform::EbuR128,
            loud: false,
        },
        Case {
            file: "vibe-ace_excerpt.flac",
            sections: VIBE_ACE,
            preset: Platform::YouTube,
            loud: false,
        },
        Case {
            file: "vibe-ace_excerpt.flac",
            sections: VIBE_ACE,
            preset: Platform::CdClub,
            loud: true,
        },
    ];
    let mut failures = Vec::new();
    for case in &cases {
        let (errors, gains) = learn_twice(case);
        println!(
            "{} -> {} ({} LUFS): pass 1 learned {:+.2} dB, error {:+.3} LU; pass 2 learned {:+.2} dB, error {:+.3} LU",
            case.file,
            case.preset.name(),
            case.preset.target_lufs(),
            gains[0],
            errors[0],
            gains[1],
            errors[1]
        );
        if errors[0].abs() > 0.5 || errors[1].abs() > 0.2 {
            failures.push(format!("{} {}: {errors:?}", case.file, case.preset));
        }
    }
    assert!(failures.is_empty(), "off target: {failures:?}");
}

/// 30 s of the francium excerpt, long enough that the learner solves and moves the gain.
fn half_minute() -> (Vec<Vec<f32>>, u32) {
    let (excerpt, rate) = decode("francium_excerpt.flac");
    let program = song(&excerpt, &[(1.0, 2)]);
    (program, rate)
}

#[test]
fn learning_is_block_size_invariant() {
    let (program, rate) = half_minute();
    let mut settings = ChainSettings::default();
    settings.target.learn = true;
    settings.stereo.mono_below = true;
    let run = |blocks: &[usize]| {
        let mut chain = Chain::new();
        chain.prepare(rate as f32, 8192);
        play(&mut chain, &program, &settings, blocks)
    };
    let (whole, m_whole) = run(&[8192]);
    let (split, m_split) = run(&[1, 64, 4096, 333, 7, 1024, 5000]);
    assert!(
        m_whole.learned_gain_db > 1.0,
        "the learner should have raised the gain toward -14 LUFS: {}",
        m_whole.learned_gain_db
    );
    assert_eq!(m_whole.learned_gain_db, m_split.learned_gain_db);
    assert!(whole == split, "learning depends on the host's block sizes");
}

#[test]
fn learning_moves_the_gain_in_small_smooth_steps() {
    // A steady 1 kHz tone 20 dB under the target: the learner has to raise the drive by
    // ~20 dB. Its level, 10 ms at a time (ten periods), may only glide: no step larger than
    // the learner's largest (0.15 dB per 100 ms), none of them a click.
    let rate = 48_000.0f32;
    let frames = 20 * 48_000;
    let amplitude = 10f32.powf(-34.0 / 20.0);
    let tone: Vec<f32> = (0..frames)
        .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / rate).sin() * amplitude)
        .collect();
    let program = vec![tone.clone(), tone];
    let mut settings = ChainSettings::default();
    settings.target.learn = true;
    let mut chain = Chain::new();
    chain.prepare(rate, 512);
    let (out, meters) = play(&mut chain, &program, &settings, &[512]);
    let latency = chain.latency_samples();
    let window = 480;
    let levels: Vec<f64> = out[0][latency..]
        .chunks_exact(window)
        .map(|w| {
            let ms = w.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / window as f64;
            10.0 * ms.log10()
        })
        .collect();
    let largest_step = levels
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(0.0f64, f64::max);
    let rise = levels.last().unwrap() - levels[0];
    println!(
        "tone: learned {:+.2} dB, level rose {rise:.2} dB, largest 10 ms step {largest_step:.3} dB",
        meters.learned_gain_db
    );
    assert!(
        rise > 15.0,
        "the learner did not raise the level: {rise:.2} dB"
    );
    assert!(
        largest_step <= MAX_STEP_DB as f64 + 0.02,
        "a step of {largest_step:.3} dB in 10 ms"
    );
}

#[test]
fn the_learned_gain_is_a_plain_drive_when_learn_is_off() {
    // So a settings file with the learned gain renders the very same master offline.
    let (excerpt, rate) = decode("vibe-ace_excerpt.flac");
    let mut learned = ChainSettings::default();
    learned.target.learned_gain_db = 5.5;
    let mut driven = ChainSettings::default();
    driven.limiter.drive_db = 5.5;
    let run = |s: &ChainSettings| {
        let mut chain = Chain::new();
        chain.prepare(rate as f32, 1024);
        play(&mut chain, &excerpt, s, &HOST_BLOCKS).0
    };
    assert!(run(&learned) == run(&driven));
    assert!(run(&learned) != excerpt, "5.5 dB of drive changed nothing?");
}

#[test]
fn an_unreachable_target_is_reported_and_the_gain_stays_in_range() {
    // -5 LUFS out of the limiter alone (the Transparent style: no clipper) on a jazz
    // excerpt: not with 24 dB of drive (the renderer reaches -8.1 LUFS). The default style's
    // clipper does reach it, with some 19 dB of limiting and a warning. Learn climbs in
    // steps while its model still hopes: 48 s of the song (measured: at 12 s it was at
    // +19.5 dB, still learning; by 48 s at the +24 dB end, out of range).
    let (excerpt, rate) = decode("vibe-ace_excerpt.flac");
    let program = song(&excerpt, &[(1.0, 8)]);
    let mut settings = ChainSettings::default();
    settings.limiter.style = lathe::dsp::settings::LimiterStyle::Transparent;
    settings.target.preset = Platform::Custom;
    settings.target.lufs = -5.0;
    settings.target.learn = true;
    let mut chain = Chain::new();
    chain.prepare(rate as f32, 1024);
    let (out, meters) = play(&mut chain, &program, &settings, &HOST_BLOCKS);
    assert_eq!(meters.learn_state, LearnState::OutOfRange);
    assert_eq!(
        meters.learned_gain_db,
        lathe::dsp::learn::LEARNED_GAIN_DB.max
    );
    assert!(out.iter().flatten().all(|s| s.is_finite()));
}

#[test]
fn the_meters_say_what_each_platform_will_do() {
    // EBU Tech 3341 case 1: a 1 kHz stereo sine at -23 dBFS reads -23 LUFS, true peak
    // -23 dBTP. And a loud one, at -8.
    for (dbfs, want) in [
        // Spotify, Apple, YouTube, Amazon, Tidal, Deezer, EBU, ATSC, CD, custom (-14):
        (
            -23.0f32,
            [9.0, 7.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 9.0],
        ),
        (
            -8.0,
            [-6.0, -8.0, -6.0, -6.0, -6.0, -7.0, -15.0, -16.0, 0.0, -6.0],
        ),
    ] {
        let rate = 48_000.0f32;
        let amplitude = 10f32.powf(dbfs / 20.0);
        let x: Vec<f32> = (0..20 * 48_000)
            .map(|n| (2.0 * std::f32::consts::PI * 1000.0 * n as f32 / rate).sin() * amplitude)
            .collect();
        let mut chain = Chain::new();
        chain.prepare(rate, 512);
        let (_, meters) = play(
            &mut chain,
            &[x.clone(), x],
            &ChainSettings::default(),
            &[512],
        );
        let got: [f32; PLATFORM_COUNT] = meters.platform_gain_db;
        for p in Platform::ALL {
            // The meters' own tolerance for a stationary sine (EBU Tech 3341: ±0.1 LU).
            assert!(
                (got[p as usize] - want[p as usize]).abs() <= 0.1,
                "{dbfs} dBFS, {p}: {} dB, expected {}",
                got[p as usize],
                want[p as usize]
            );
        }
    }
}

/// Learn turns down before the limiter: a hot mix (the Potassium mix peaks at -0.2 dBTP at
/// -15 LUFS) learned onto EBU R128's -23 LUFS gets a negative learned gain, and the master it
/// gives is the mix times that gain, the limiter idle: a fast residual against the
/// gain-matched mix (quality_eval.py's) far under -100 dB. The plugin runs this chain.
#[test]
fn learn_turns_a_hot_mix_down_before_the_limiter() {
    let (excerpt, rate) = decode("potassium_mix.flac");
    let program = song(&excerpt, &[(1.0, 6)]);
    let case = Case {
        file: "potassium_mix.flac",
        sections: &[(1.0, 6)],
        preset: Platform::EbuR128,
        loud: false,
    };
    let (errors, gains) = learn_twice(&case);
    println!("learned {gains:?} dB, errors {errors:?} LU");
    assert!(gains[1] < -6.0, "{gains:?}");
    assert!(errors[1].abs() <= 0.2, "{errors:?}");
    let mut settings = ChainSettings::default();
    settings.target.preset = Platform::EbuR128;
    settings.target.learned_gain_db = gains[1];
    let master = lathe::render::master::master(&program, rate, &settings, |_| {});
    let x: Vec<&[f32]> = program.iter().map(|c| &c[..]).collect();
    let y: Vec<&[f32]> = master.iter().map(|c| &c[..]).collect();
    let residual = lathe::render::quality::fast_residual_db(&x, &y, rate);
    println!("fast residual {residual:.1} dB");
    assert!(residual < -100.0, "{residual}");
}
