//! `cargo xtask bench-render`: how long a full render takes next to ffmpeg's two-pass
//! loudnorm, on the same file, in the same run.
//!
//! The mix is built from the repository's own material (the 48 kHz excerpt, repeated to
//! 3.5 minutes, 24-bit), so the figure can be reproduced on a fresh clone. Lathe renders the
//! default deliverable set (four WAVs and the MP3) with exact loudness; ffmpeg produces one
//! 48 kHz WAV with `loudnorm` in its two-pass (measure, then apply) form, the usual way to hit
//! a target with it (`peers.rs`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Result;
use lathe::dsp::ChainSettings;
use lathe::render::encode::{wav::write_wav, PcmOptions};
use lathe::render::{self, decode::decode_file, metadata::Metadata, RenderJob};

use crate::peers;

/// Length of the benchmark mix.
const MIX_SECONDS: f64 = 210.0;

fn build_mix(dir: &Path) -> Result<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let excerpt = root.join("tests/data/francium_excerpt.flac");
    let audio = decode_file(&excerpt)?;
    let frames = (MIX_SECONDS * audio.sample_rate as f64) as usize;
    let channels: Vec<Vec<f32>> = audio
        .channels
        .iter()
        .map(|c| c.iter().copied().cycle().take(frames).collect())
        .collect();
    let mix = dir.join("bench_mix.wav");
    write_wav(
        &mix,
        &channels,
        audio.sample_rate,
        PcmOptions::new(24),
        &Metadata::default(),
    )?;
    Ok(mix)
}

fn run() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("lathe-bench-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let mix = build_mix(&dir)?;
    println!(
        "mix: {MIX_SECONDS} s, 48 kHz / 24-bit stereo ({})",
        mix.display()
    );

    let started = Instant::now();
    let mut job = RenderJob::new(&mix, dir.join("lathe"), ChainSettings::default());
    job.formats = std::env::var("LATHE_BENCH_FORMATS")
        .ok()
        .map_or(Ok(job.formats.clone()), |f| {
            render::formats::parse_formats(&f)
        })
        .map_err(anyhow::Error::msg)?;
    // When each stage started, to show where the time goes.
    let mut stages: Vec<(String, f64)> = Vec::new();
    let report = render::render(&job, &mut |stage, _| {
        let label = stage.label();
        if stages.last().is_none_or(|(l, _)| *l != label) {
            stages.push((label, started.elapsed().as_secs_f64()));
        }
    })?;
    let lathe_s = started.elapsed().as_secs_f64();
    let passes = report.loudness.map_or(1, |l| l.passes);
    println!(
        "lathe:  {lathe_s:6.2} s  ({} deliverables, exact loudness in {passes} passes)",
        report.deliverables.len()
    );
    for (i, (label, at)) in stages.iter().enumerate() {
        let until = stages.get(i + 1).map_or(lathe_s, |(_, t)| *t);
        println!("          {label:<32} {:6.2} s", until - at);
    }
    for d in &report.deliverables {
        // The codec stage's lowering tells how many encodes the MP3 took (see
        // MP3_FIRST_LOWERING_DB in src/render/deliver.rs).
        let trim = if d.codec_trim_db > 0.0 {
            format!("  (limited {:.2} dB under the ceiling)", d.codec_trim_db)
        } else {
            String::new()
        };
        println!(
            "          {:<32} {:7.2} LUFS  {:6.2} dBTP{trim}",
            d.format.to_string(),
            d.measurement.integrated_lufs,
            d.measurement.true_peak_dbtp
        );
    }

    let started = Instant::now();
    peers::loudnorm_two_pass(
        &mix,
        &dir.join("ffmpeg_loudnorm.wav"),
        -14.0,
        11.0,
        "pcm_s24le",
    )?;
    let ffmpeg_s = started.elapsed().as_secs_f64();
    println!("ffmpeg: {ffmpeg_s:6.2} s  (two-pass loudnorm, one 48 kHz WAV)");
    println!(
        "ratio:  Lathe takes {:.2}x ffmpeg's time ({:.2}x faster)",
        lathe_s / ffmpeg_s,
        ffmpeg_s / lathe_s
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

pub fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
