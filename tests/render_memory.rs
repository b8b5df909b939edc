//! Issue 8 item 4: a render's memory grows with the length of the mix only by the decoded
//! audio it must hold, a fixed number of times over, never more as the mix gets longer.
//!
//! Peak memory is per process (`VmHWM`), so each render runs in a child process of its own:
//! this test binary, started again on the `render_one` helper below. Measured on 96 kHz
//! stereo mixes of 60 and 240 s rendered to the default deliverables (four WAVs at 44.1 and
//! 48 kHz and the MP3) on the default loudness target: the growth of the peak per byte of
//! decoded audio (f32, 4 bytes per sample) is 2.11 (2.01 to a single 48 kHz WAV). That is the
//! decoded mix and its master, which the loudness solve needs side by side, and nothing
//! more: the report's picture of the mix is analysed while the mix is mastered and the mix is
//! let go before delivery; delivery holds the master and its conversions to 44.1 and 48 kHz
//! (0.96 of a copy from 96 kHz), and measures every file it writes as it decodes it, block by
//! block; the MP3's codec stage measures its limiter passes block by block and streams the
//! limited audio into LAME. Before (one 48 kHz WAV): 3.5 copies with the file decoded back
//! whole and the mix kept for the report, 4.0 with the solve holding a master per pass, 5.5
//! before the resampler stopped holding the master and its output as f64. With
//! `cargo xtask render` on a one-hour 96 kHz / 24-bit stereo mix (to a 48 kHz / 24-bit WAV),
//! at 4.0 copies: peak 10,560 MiB for 2,637 MiB of decoded audio.
#![cfg(all(feature = "render", target_os = "linux"))]

use std::path::PathBuf;
use std::process::Command;

use lathe::dsp::ChainSettings;
use lathe::render::{self, resources, RenderJob};

/// The most the peak may grow per byte of decoded audio: the 2.11 copies measured above, and
/// some room for the allocator's rounding and the other stages' smaller buffers; well under
/// the 3.5 that delivery held before it streamed.
const MAX_COPIES: f64 = 2.5;
const RATE: u32 = 96_000;

/// Renders a synthetic mix of `LATHE_MEMORY_SECONDS` seconds and prints the peak memory.
/// Does nothing unless started by `peak_memory_grows_only_with_the_decoded_audio`.
#[test]
#[ignore = "a helper: run by peak_memory_grows_only_with_the_decoded_audio"]
fn render_one() {
    let Some(seconds) = std::env::var("LATHE_MEMORY_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u32>().ok())
    else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("lathe-memory-{seconds}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mix = dir.join("mix.wav");
    write_mix(&mix, seconds);
    // The default deliverables: two rate conversions, four WAVs and the MP3, whose codec
    // stage used to hold the most.
    let job = RenderJob::new(mix, dir.join("out"), ChainSettings::default());
    let report = render::render(&job, &mut |_, _| {}).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "\nPEAK_MEMORY_BYTES={}",
        report
            .peak_memory_bytes
            .or_else(resources::peak_memory_bytes)
            .unwrap()
    );
}

/// A 24-bit stereo WAV of tones and bursts of noise, the noise smoothed to the audio band
/// (white noise at 96 kHz puts half its energy above 24 kHz, which a 48 kHz deliverable
/// cannot carry, and its loudness would then miss the target), written sample by sample.
fn write_mix(path: &PathBuf, seconds: u32) {
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).unwrap();
    let mut seed = 0x2545_F491u32;
    let mut noise = 0.0f64;
    for n in 0..(seconds * RATE) as u64 {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let white = (seed >> 8) as f64 / (1u64 << 24) as f64 - 0.5;
        noise += 0.1 * (white - noise);
        let t = n as f64 / RATE as f64;
        let beat = (t * 2.0).fract();
        let x = 0.4 * (std::f64::consts::TAU * 55.0 * t).sin() * (-beat * 8.0).exp()
            + 0.1 * (std::f64::consts::TAU * 880.0 * t).sin()
            + 0.2 * noise * (beat < 0.1) as u8 as f64;
        let s = (x * 8_388_607.0) as i32;
        w.write_sample(s).unwrap();
        w.write_sample(-s / 2).unwrap();
    }
    w.finalize().unwrap();
}

/// Runs `render_one` in a child process for a mix of `seconds` and returns its peak memory.
fn peak_for(seconds: u32) -> u64 {
    let out = Command::new(std::env::current_exe().unwrap())
        .args([
            "render_one",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("LATHE_MEMORY_SECONDS", seconds.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .find_map(|l| l.split("PEAK_MEMORY_BYTES=").nth(1))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no figure in: {stdout}"))
}

#[test]
fn peak_memory_grows_only_with_the_decoded_audio() {
    let (short, long) = (60u32, 240u32);
    let decoded = |s: u32| f64::from(s) * f64::from(RATE) * 2.0 * 4.0;
    let (a, b) = (peak_for(short), peak_for(long));
    let copies = (b as f64 - a as f64) / (decoded(long) - decoded(short));
    println!(
        "peak {:.0} MiB for {short} s, {:.0} MiB for {long} s: {copies:.2} copies of the decoded audio",
        a as f64 / 1048576.0,
        b as f64 / 1048576.0
    );
    assert!(
        copies <= MAX_COPIES,
        "{copies:.2} copies of the decoded audio"
    );
    // And the figure means something: the mix itself is held.
    assert!(copies >= 1.0, "{copies:.2}");
}
