//! `cargo xtask bench-quality [MIX…] [--targets -14,-9,-7] [--seconds 40] [--out DIR]`:
//! what mastering each mix to each loudness target costs the music, for Lathe with its
//! default settings and, in the same run, ffmpeg's two-pass `loudnorm` and ffmpeg's
//! `alimiter` with its gain iterated onto the target.
//!
//! It is ../shared/tools/quality_eval.py in Rust (same inputs, peers and definitions; the
//! figures come from `lathe::render::quality`): every mix is cut to its first N seconds and
//! converted to 48 kHz 32-bit float by ffmpeg, each tool masters that, and each master is
//! measured against it. Without mixes it takes ../shared/audio/mixes/*.flac. A benchmark, not
//! a test: it prints figures and judges them against the goals of the loud-and-clean work at
//! -9 LUFS (on target, under the ceiling, pumping no more than alimiter's + 0.1 LU, fast
//! residual no higher than alimiter's), and exits 0 either way.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Context, Result};
use lathe::dsp::ChainSettings;
use lathe::render::quality::{judge, Quality};
use lathe::render::{self, decode::decode_file, formats::Format, RenderJob};

use crate::peers;

/// The rate every tool is measured at (quality_eval.py's).
const RATE: u32 = 48_000;
/// Rounds of gain for alimiter, and how close its loudness must come (quality_eval.py's).
const ALIMITER_ROUNDS: usize = 4;
const ALIMITER_TOLERANCE_LU: f64 = 0.05;
/// The goals' target and margins.
const GOAL_TARGET_LUFS: f64 = -9.0;
const ON_TARGET_LU: f64 = 0.1;
const PUMPING_ALLOWANCE_LU: f64 = 0.1;
const CEILING_DBTP: f64 = -1.0;

struct Options {
    mixes: Vec<PathBuf>,
    targets: Vec<f64>,
    seconds: f64,
    out: PathBuf,
}

fn parse(args: Vec<String>) -> Result<Options> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut options = Options {
        mixes: Vec::new(),
        targets: vec![-14.0, -9.0, -7.0],
        seconds: 40.0,
        out: root.join("target/bench-quality"),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        let mut value = |name: &str| it.next().with_context(|| format!("{name} needs a value"));
        match a.as_str() {
            "--targets" => {
                options.targets = value("--targets")?
                    .split(',')
                    .map(|t| t.trim().parse::<f64>())
                    .collect::<Result<_, _>>()
                    .context("--targets: a comma-separated list of LUFS, e.g. -14,-9,-7")?
            }
            "--seconds" => {
                options.seconds = value("--seconds")?.parse().context("--seconds: a number")?
            }
            "--out" => options.out = value("--out")?.into(),
            other if other.starts_with("--") => bail!("unknown option {other}"),
            mix => options.mixes.push(mix.into()),
        }
    }
    if options.mixes.is_empty() {
        let shared = root.join("../shared/audio/mixes");
        let mut found: Vec<PathBuf> = std::fs::read_dir(&shared)
            .with_context(|| format!("no mixes given and none in {}", shared.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "flac"))
            .collect();
        found.sort();
        options.mixes = found;
    }
    Ok(options)
}

/// One master measured.
struct Row {
    mix: String,
    target: f64,
    tool: &'static str,
    quality: Quality,
}

fn decode(path: &Path) -> Result<Vec<Vec<f32>>> {
    let audio = decode_file(path).with_context(|| format!("{}", path.display()))?;
    if audio.sample_rate != RATE {
        bail!(
            "{} is at {} Hz, not {RATE}",
            path.display(),
            audio.sample_rate
        );
    }
    Ok(audio.channels)
}

fn integrated(channels: &[Vec<f32>]) -> f64 {
    render::solve::integrated_lufs(channels, RATE)
}

fn lathe(mix: &Path, dir: &Path, target: f64) -> Result<PathBuf> {
    let mut job = RenderJob::new(mix, dir, ChainSettings::default());
    job.target_lufs = Some(target);
    job.formats = vec![Format::Wav {
        rate: RATE,
        bits: 24,
    }];
    job.force = true;
    let report = render::render(&job, &mut |_, _| {})?;
    Ok(report.deliverables[0].path.clone())
}

fn alimiter(mix: &Path, out: &Path, target: f64, mix_lufs: f64) -> Result<()> {
    let mut gain = target - mix_lufs;
    for _ in 0..ALIMITER_ROUNDS {
        peers::alimiter(mix, out, gain)?;
        let miss = target - integrated(&decode(out)?);
        if miss.abs() < ALIMITER_TOLERANCE_LU {
            break;
        }
        gain += miss;
    }
    Ok(())
}

fn run(args: Vec<String>) -> Result<()> {
    let options = parse(args)?;
    let mut rows: Vec<Row> = Vec::new();
    for mix_path in &options.mixes {
        let name = mix_path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let dir = options.out.join(&name);
        std::fs::create_dir_all(&dir)?;
        let mix = dir.join("mix.wav");
        peers::ffmpeg(&[
            "-y",
            "-i",
            mix_path.to_str().context("path is not UTF-8")?,
            "-t",
            &options.seconds.to_string(),
            "-ar",
            &RATE.to_string(),
            "-c:a",
            "pcm_f32le",
            mix.to_str().context("path is not UTF-8")?,
        ])?;
        let x = decode(&mix)?;
        let mix_lufs = integrated(&x);
        for &target in &options.targets {
            let tag = format!("{target:+.0}");
            let lathe_out = lathe(&mix, &dir.join(format!("lathe{tag}")), target)?;
            let loudnorm_out = dir.join(format!("loudnorm{tag}.wav"));
            peers::loudnorm_two_pass(&mix, &loudnorm_out, target, 20.0, "pcm_f32le")?;
            let alimiter_out = dir.join(format!("alimiter{tag}.wav"));
            alimiter(&mix, &alimiter_out, target, mix_lufs)?;
            for (tool, path) in [
                ("lathe", lathe_out),
                ("loudnorm", loudnorm_out),
                ("alimiter", alimiter_out),
            ] {
                let quality = judge(&x, &decode(&path)?, RATE);
                let row = Row {
                    mix: name.clone(),
                    target,
                    tool,
                    quality,
                };
                print_row(&row);
                rows.push(row);
            }
        }
    }
    judge_goals(&rows);
    Ok(())
}

fn print_row(r: &Row) {
    let q = &r.quality;
    println!(
        "{:<36} {:>5.0} {:<9} {:>7.2} LUFS {:>6.2} dBTP  PLR {:>5.2}  pumping {:>5.2} LU  \
         fast residual {:>6.1} dB",
        r.mix,
        r.target,
        r.tool,
        q.integrated_lufs,
        q.true_peak_16x_dbtp,
        q.plr_db,
        q.pumping_lu,
        q.fast_residual_db
    );
}

/// The goals at -9 LUFS, mix by mix: Lathe on target and under the ceiling, pumping no more
/// than alimiter's + 0.1 LU, fast residual no higher than alimiter's.
fn judge_goals(rows: &[Row]) {
    let find = |mix: &str, tool: &str| {
        rows.iter()
            .find(|r| r.mix == mix && r.tool == tool && r.target == GOAL_TARGET_LUFS)
            .map(|r| r.quality)
    };
    let mut mixes: Vec<&str> = rows.iter().map(|r| r.mix.as_str()).collect();
    mixes.dedup();
    println!("\ngoals at {GOAL_TARGET_LUFS} LUFS (Lathe against alimiter):");
    for mix in mixes {
        let (Some(l), Some(a)) = (find(mix, "lathe"), find(mix, "alimiter")) else {
            continue;
        };
        let on_target = (l.integrated_lufs - GOAL_TARGET_LUFS).abs() <= ON_TARGET_LU;
        let under = l.true_peak_16x_dbtp <= CEILING_DBTP;
        let pumping = l.pumping_lu <= a.pumping_lu + PUMPING_ALLOWANCE_LU;
        let residual = l.fast_residual_db <= a.fast_residual_db;
        let mark = |ok: bool| if ok { "met" } else { "MISSED" };
        println!(
            "{mix:<36} on target {} ({:.2}), under the ceiling {} ({:.2} dBTP), pumping {} \
             ({:.2} vs {:.2} LU), fast residual {} ({:.1} vs {:.1} dB)",
            mark(on_target),
            l.integrated_lufs,
            mark(under),
            l.true_peak_16x_dbtp,
            mark(pumping),
            l.pumping_lu,
            a.pumping_lu,
            mark(residual),
            l.fast_residual_db,
            a.fast_residual_db
        );
    }
}

pub fn main(args: Vec<String>) -> ExitCode {
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
