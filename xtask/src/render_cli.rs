//! `cargo xtask render`: argument parsing, progress and the printed summary. The work itself
//! is `lathe::render::render`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lathe::dsp::ChainSettings;
use lathe::render::{self, RenderJob, Stage};

const USAGE: &str = "\
Masters a mix offline through Lathe's chain and writes a 48 kHz / 24-bit WAV.

Usage: cargo xtask render <mix> [--settings <file.toml>] [--out <dir>] [--force]

Arguments:
  <mix>                  The mix: WAV (16/24/32-bit int, 32/64-bit float), AIFF/AIFC or FLAC,
                         44.1 to 192 kHz, mono or stereo.

Options:
  --settings <file>      Chain settings (TOML, the ChainSettings format; see README).
                         Without it, the defaults: ceiling -1.0 dBTP, no drive.
  --out <dir>            Output folder. Default: masters/<mix name>/
  --force                Overwrite a master that already exists.
  -h, --help             This text.

Example:
  cargo xtask render tests/data/francium_excerpt.flac --settings loud.toml --out masters/demo
";

struct Args {
    mix: PathBuf,
    settings: Option<PathBuf>,
    out: Option<PathBuf>,
    force: bool,
}

fn parse(args: Vec<String>) -> Result<Option<Args>> {
    let mut mix = None;
    let mut settings = None;
    let mut out = None;
    let mut force = false;
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--settings" => settings = Some(it.next().context("--settings needs a file")?.into()),
            "--out" => out = Some(it.next().context("--out needs a folder")?.into()),
            "--force" => force = true,
            s if s.starts_with('-') => bail!("unknown option {s}\n\n{USAGE}"),
            s if mix.is_none() => mix = Some(PathBuf::from(s)),
            s => bail!("one mix at a time; got a second one: {s}"),
        }
    }
    let mix = mix.with_context(|| format!("no mix given\n\n{USAGE}"))?;
    Ok(Some(Args {
        mix,
        settings,
        out,
        force,
    }))
}

/// Shows a progress bar on stderr, but only once the work has taken more than a second.
struct Progress {
    bar: ProgressBar,
    started: Instant,
    shown: bool,
}

impl Progress {
    fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::hidden());
        bar.set_style(
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {percent:>3}%  {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        Self {
            bar,
            started: Instant::now(),
            shown: false,
        }
    }

    fn update(&mut self, stage: Stage, fraction: f64) {
        if !self.shown && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        // Mastering is most of the work; the other stages share the rest.
        let (from, span) = match stage {
            Stage::Decode => (0.0, 0.1),
            Stage::Master => (0.1, 0.6),
            Stage::Resample => (0.7, 0.1),
            Stage::Write => (0.8, 0.1),
            Stage::Verify => (0.9, 0.1),
        };
        self.bar.set_message(stage.label());
        self.bar
            .set_position(((from + span * fraction) * 1000.0) as u64);
    }
}

fn render(args: Args) -> Result<()> {
    let settings = match &args.settings {
        Some(path) => render::load_settings(path)?,
        None => ChainSettings::default(),
    };
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let stem = args.mix.file_stem().unwrap_or_default();
        PathBuf::from("masters").join(stem)
    });
    let job = RenderJob {
        mix: args.mix,
        settings,
        out_dir,
        force: args.force,
    };
    let mut progress = Progress::new();
    let report = render::render(&job, &mut |stage, f| progress.update(stage, f));
    progress.bar.finish_and_clear();
    let report = report?;

    let s = &report.source;
    println!("mix      {}", report.mix.display());
    println!(
        "         {:.1} s at {} Hz: {:.1} LUFS integrated, {:.1} LU range, {:.2} dBTP",
        s.duration_s, s.sample_rate, s.integrated_lufs, s.loudness_range_lu, s.true_peak_dbtp
    );
    for c in &report.preflight {
        let mark = if c.passed { "ok  " } else { "NOTE" };
        println!("check    {mark} {:<16} {}", c.name, c.detail);
    }
    println!("latency  {} samples (trimmed)", report.latency_samples);
    for d in &report.deliverables {
        let m = &d.measurement;
        println!("wrote    {}", d.path.display());
        println!(
            "         {} Hz / {}-bit, {:.1} s: {:.1} LUFS integrated, {:.1} LU range, \
             {:.2} dBTP true peak, {:.2} dBFS sample peak",
            m.sample_rate,
            d.bits,
            m.duration_s,
            m.integrated_lufs,
            m.loudness_range_lu,
            m.true_peak_dbtp,
            m.sample_peak_dbfs
        );
    }
    Ok(())
}

pub fn run(args: Vec<String>) -> ExitCode {
    let result = parse(args).and_then(|parsed| match parsed {
        None => {
            print!("{USAGE}");
            Ok(())
        }
        Some(args) => render(args),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
