//! `cargo xtask render --batch` / `lathe batch`: flags, progress, the summary and the batch
//! report. The rules (manifest, shards, completion records, the work queue) are
//! `lathe::render::batch`; each row becomes a job through `render`'s own option parsing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use anyhow::{Context, Result};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use lathe::render::batch::{self, manifest, record, Event, Outcome, RowError, Shard, Track};
use lathe::render::{Cancel, Stage};

const USAGE: &str = "\
Masters every track of a manifest: a CSV file with one row per track, checked before any
work, rendered several at once. A finished track leaves <name>.done.json beside its masters;
a rerun skips the tracks whose record matches and redoes the rest.

Usage: cargo xtask batch <manifest.csv> [options]
       (also: cargo xtask render --batch <manifest.csv> [options])

Manifest columns (a header row names them; an empty cell leaves the option out):
  mix, out               The mix and the track's output folder (required). Paths are taken
                         from the manifest's folder unless absolute.
  target, platform, ceiling, formats, settings, reference, match-amount, match-smoothing,
  assist, assist-amount, title, artist, isrc, year, fade-in, fade-out, noise-shaping, as-set
                         As the render options of the same names (render --help);
                         assist, noise-shaping and as-set take yes or no.

Options:
  --jobs <n>             Tracks rendered at once. Default: the machine's cores.
  --shard <i>/<n>        Master only rows i, i+n, i+2n, ... (0-based) of the manifest: one
                         task of an array job. Without it the index is read from
                         SLURM_ARRAY_TASK_ID (with SLURM_ARRAY_TASK_COUNT),
                         JOB_COMPLETION_INDEX (Kubernetes) or AWS_BATCH_JOB_ARRAY_INDEX.
  --shards <n>           The number of tasks, when the engine gives only the index
                         (Kubernetes, AWS Batch); or set LATHE_SHARD_COUNT.
  --force                Replace masters that exist without a completion record.
  --report-dir <dir>     Where the batch report goes. Default: the manifest's folder.
  -h, --help             This text.

Writes <manifest>.report.csv and <manifest>.report.json (<manifest>.shard-<i>-of-<n>.…
for a shard): one row per track with its status, loudness, true peak and warnings.
Exit codes: 0 every track done or skipped, 1 a track failed, 2 a bad manifest or option
(nothing was rendered), 130 stopped by Ctrl-C (finished tracks keep their records).
See docs/batch.md.
";

const OPTIONS: &[&str] = &[
    "--help",
    "--jobs",
    "--shard",
    "--shards",
    "--force",
    "--report-dir",
];

struct Args {
    manifest: PathBuf,
    jobs: usize,
    shard: Option<Shard>,
    shards: Option<usize>,
    force: bool,
    report_dir: Option<PathBuf>,
}

fn parse(args: Vec<String>) -> Result<Option<Args>> {
    let mut manifest = None;
    let mut jobs = None;
    let mut shard = None;
    let mut shards = None;
    let mut force = false;
    let mut report_dir = None;
    let mut it = args.into_iter();
    let whole = |option: &str, value: Option<String>| -> Result<usize> {
        let value = value.with_context(|| format!("{option} needs a number"))?;
        match value.trim().parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => anyhow::bail!("{option}: '{value}' is not a whole number of 1 or more"),
        }
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--jobs" => jobs = Some(whole("--jobs", it.next())?),
            "--shard" => {
                let value = it.next().context("--shard needs i/n, e.g. 0/4")?;
                shard = Some(Shard::parse(&value).map_err(|e| anyhow::anyhow!("--shard {e}"))?);
            }
            "--shards" => shards = Some(whole("--shards", it.next())?),
            "--force" => force = true,
            "--report-dir" => {
                report_dir = Some(it.next().context("--report-dir needs a folder")?.into())
            }
            s if s.starts_with('-') => {
                let hint = crate::cli::nearest(s, OPTIONS)
                    .map(|k| format!("; did you mean {k}?"))
                    .unwrap_or_default();
                anyhow::bail!("unknown option {s}{hint} (--help lists the options)");
            }
            s if manifest.is_none() => manifest = Some(PathBuf::from(s)),
            s => anyhow::bail!("one manifest at a time; got a second one: {s}"),
        }
    }
    if shard.is_some() && shards.is_some() {
        anyhow::bail!("--shard i/n names the count already; leave out --shards");
    }
    let jobs = jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok(Some(Args {
        manifest: manifest.context("no manifest given (--help shows how to call it)")?,
        jobs,
        shard,
        shards,
        force,
        report_dir,
    }))
}

/// A row as the `render` command line it stands for.
fn row_args(row: &manifest::Row) -> Vec<String> {
    let mut args = Vec::new();
    for (column, value) in &row.cells {
        match manifest::COLUMNS.iter().find(|(c, _)| c == column) {
            _ if *column == "mix" => args.push(value.clone()),
            Some((_, manifest::Kind::Flag)) => args.push(format!("--{column}")),
            _ => args.extend([format!("--{column}"), value.clone()]),
        }
    }
    args
}

/// Every row's job, or every refusal: each row goes through `render`'s parsing and rules.
fn tracks(rows: &[manifest::Row], force: bool) -> (Vec<Track>, Vec<RowError>) {
    let mut tracks = Vec::new();
    let mut errors = Vec::new();
    for row in rows {
        let job = crate::render_cli::parse(row_args(row))
            .and_then(|a| a.context("no mix given"))
            .and_then(|a| crate::render_cli::build_job(a).map(|(job, _)| job));
        match job {
            Ok(mut job) => {
                job.force = force;
                tracks.push(Track {
                    line: row.line,
                    job,
                    // Hashed once the shard is chosen: a task reads only its own mixes.
                    inputs_md5: String::new(),
                });
            }
            Err(e) => errors.push(RowError::new(row.line, crate::cli::message(&e))),
        }
    }
    errors.extend(batch::check_distinct(&tracks));
    (tracks, errors)
}

/// The refusal of a bad manifest: every bad row on its own line, a usage error (exit 2).
fn refuse(manifest: &Path, mut errors: Vec<RowError>) -> anyhow::Error {
    errors.sort_by_key(|e| e.line);
    let lines: Vec<String> = errors
        .iter()
        .map(|e| {
            let hint = e
                .unknown_column
                .as_deref()
                .and_then(|c| {
                    let known: Vec<&str> = manifest::COLUMNS.iter().map(|(c, _)| *c).collect();
                    crate::cli::nearest(c, &known)
                })
                .map(|k| format!("; did you mean {k}?"))
                .unwrap_or_default();
            format!("{}:{e}{hint}", manifest.display())
        })
        .collect();
    crate::cli::Usage(format!(
        "{} bad row(s) in the manifest, nothing was rendered:\n{}",
        errors.len(),
        lines.join("\n")
    ))
    .into()
}

/// How far through its render a track is, 0 to 1, for the total's ETA: the stages' usual
/// shares of the time (mastering's rounds are counted as they come; most solves take 3-4).
fn overall(stage: Stage, f: f64) -> f64 {
    let f = f.clamp(0.0, 1.0);
    match stage {
        Stage::Decode => 0.05 * f,
        Stage::Master { round } => {
            0.05 + 0.55 * ((round.saturating_sub(1) as f64 + f) / 4.0).min(1.0)
        }
        Stage::Deliver => 0.6 + 0.35 * f,
        Stage::Report => 0.95 + 0.05 * f,
    }
}

/// One line per running track and the total with its ETA, on stderr (hidden when stderr is
/// no terminal, as in a cluster's log).
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    lines: Mutex<HashMap<usize, ProgressBar>>,
    fractions: Mutex<Vec<f64>>,
}

impl Bars {
    fn new(count: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let total = multi.add(ProgressBar::new(count as u64 * 1000));
        total.set_style(
            ProgressStyle::with_template(
                "{msg:>24} [{bar:30}] {percent:>3}%  {elapsed} elapsed, ETA {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        total.set_message(format!("total, {count} tracks"));
        Self {
            multi,
            total,
            lines: Mutex::new(HashMap::new()),
            fractions: Mutex::new(vec![0.0; count]),
        }
    }

    fn event(&self, tracks: &[Track], i: usize, event: Event<'_>) {
        let Ok(mut lines) = self.lines.lock() else {
            return;
        };
        match event {
            Event::Started => {
                let bar = self
                    .multi
                    .insert_before(&self.total, ProgressBar::new(1000));
                bar.set_style(
                    ProgressStyle::with_template("{prefix:>24} [{bar:30}] {percent:>3}%  {msg}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                );
                let t = &tracks[i];
                bar.set_prefix(format!("line {} {}", t.line, t.job.master_name()));
                lines.insert(i, bar);
            }
            Event::Progress(stage, f) => {
                if let Some(bar) = lines.get(&i) {
                    bar.set_message(stage.label());
                    bar.set_position((f.clamp(0.0, 1.0) * 1000.0) as u64);
                }
                self.set_fraction(i, overall(stage, f));
            }
            Event::Finished(_) => {
                if let Some(bar) = lines.remove(&i) {
                    bar.finish_and_clear();
                    self.multi.remove(&bar);
                }
                self.set_fraction(i, 1.0);
            }
        }
    }

    fn set_fraction(&self, i: usize, f: f64) {
        if let Ok(mut fractions) = self.fractions.lock() {
            // Never backwards: a new mastering round would otherwise pull the total back.
            fractions[i] = fractions[i].max(f);
            let sum: f64 = fractions.iter().sum();
            self.total.set_position((sum * 1000.0) as u64);
        }
    }
}

/// Where the batch report goes: `<dir>/<manifest stem>[.shard-i-of-n].report.{csv,json}`.
fn report_stem(args: &Args, shard: Option<Shard>) -> PathBuf {
    let dir = args.report_dir.clone().unwrap_or_else(|| {
        args.manifest
            .parent()
            .map_or_else(PathBuf::new, Path::to_path_buf)
    });
    let stem = args
        .manifest
        .file_stem()
        .unwrap_or_default()
        .to_string_lossy();
    let shard = shard
        .map(|s| format!(".shard-{}-of-{}", s.index, s.count))
        .unwrap_or_default();
    dir.join(format!("{stem}{shard}"))
}

fn status(o: &Outcome) -> (&'static str, String) {
    match o {
        Outcome::Done(_) => ("done", String::new()),
        Outcome::Skipped(_) => ("skipped", "its record matches".into()),
        Outcome::Failed(why) => ("failed", why.clone()),
        Outcome::Cancelled => ("stopped", "Ctrl-C".into()),
    }
}

fn record_of(o: &Outcome) -> Option<&record::Record> {
    match o {
        Outcome::Done(r) | Outcome::Skipped(r) => Some(r),
        _ => None,
    }
}

/// The batch report: one row per track of this run (CSV for a spreadsheet, JSON for a
/// script), with each track's loudness, true peak and warnings.
fn write_report(stem: &Path, tracks: &[Track], outcomes: &[Outcome]) -> Result<[PathBuf; 2]> {
    let mut csv =
        String::from("line,mix,out,name,status,reason,integrated_lufs,true_peak_dbtp,warnings\n");
    let mut json = Vec::new();
    for (t, o) in tracks.iter().zip(outcomes) {
        let (status, reason) = status(o);
        let r = record_of(o);
        let lufs = r.and_then(record::Record::integrated_lufs);
        let peak = r.and_then(record::Record::true_peak_dbtp);
        let warnings = r.map(|r| r.warnings.clone()).unwrap_or_default();
        let figure = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
        let fields = [
            t.line.to_string(),
            t.job.mix.display().to_string(),
            t.job.out_dir.display().to_string(),
            t.job.master_name(),
            status.to_string(),
            reason.clone(),
            figure(lufs),
            figure(peak),
            warnings.join("; "),
        ];
        let fields: Vec<String> = fields.iter().map(|f| manifest::quote(f)).collect();
        csv.push_str(&fields.join(","));
        csv.push('\n');
        json.push(serde_json::json!({
            "line": t.line,
            "mix": t.job.mix,
            "out": t.job.out_dir,
            "name": t.job.master_name(),
            "status": status,
            "reason": (!reason.is_empty()).then_some(reason),
            "integrated_lufs": lufs,
            "true_peak_dbtp": peak,
            "warnings": warnings,
            "deliverables": r.map(|r| &r.deliverables),
        }));
    }
    let csv_path = stem.with_file_name(format!(
        "{}.report.csv",
        stem.file_name().unwrap_or_default().to_string_lossy()
    ));
    let json_path = csv_path.with_extension("json");
    if let Some(dir) = csv_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("{}", dir.display()))?;
    }
    std::fs::write(&csv_path, csv).with_context(|| format!("{}", csv_path.display()))?;
    let text = serde_json::to_string_pretty(&serde_json::json!({ "tracks": json }))?;
    std::fs::write(&json_path, text).with_context(|| format!("{}", json_path.display()))?;
    Ok([csv_path, json_path])
}

fn batch(args: Args) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&args.manifest)
        .with_context(|| format!("{}: cannot read the manifest", args.manifest.display()))?;
    let base = args
        .manifest
        .parent()
        .map_or_else(PathBuf::new, Path::to_path_buf);
    // Every row is checked, and every bad one named, before any track is touched.
    let (rows, mut errors) = manifest::parse(&text, &base);
    let (tracks, job_errors) = tracks(&rows, args.force);
    errors.extend(job_errors);
    if !errors.is_empty() {
        return Err(refuse(&args.manifest, errors));
    }
    let shard = match args.shard {
        Some(s) => Some(s),
        None => {
            Shard::from_env(|k| std::env::var(k).ok(), args.shards).map_err(crate::cli::Usage)?
        }
    };
    if shard.is_none() && args.shards.is_some() {
        return crate::cli::usage(
            "--shards needs the task's index from SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX \
             or AWS_BATCH_JOB_ARRAY_INDEX; none is set (or give --shard i/n)",
        );
    }
    let total = tracks.len();
    // Every row was checked (so every shard refuses a bad manifest alike); only this
    // shard's inputs are read for their hashes. No errors: `tracks` has one track per row.
    let paired: Vec<(&manifest::Row, Track)> = rows.iter().zip(tracks).collect();
    let paired = match shard {
        Some(s) => s.select(paired),
        None => paired,
    };
    let mut tracks = Vec::with_capacity(paired.len());
    for (row, mut track) in paired {
        track.inputs_md5 = record::inputs_hash(row)
            .with_context(|| format!("line {}: cannot read its inputs", row.line))?;
        tracks.push(track);
    }
    // One Ctrl-C stops every running render; each leaves its folder as it was.
    let cancel = Cancel::new();
    for t in &mut tracks {
        t.job.cancel = cancel.clone();
    }
    let handler = cancel.clone();
    let _ = ctrlc::set_handler(move || handler.cancel());

    if let Some(s) = shard {
        println!(
            "shard    {s}: {} of the manifest's {total} tracks",
            tracks.len()
        );
    }
    let bars = Bars::new(tracks.len());
    let outcomes = batch::run(&tracks, args.jobs, &cancel, &|i, e| {
        bars.event(&tracks, i, e)
    });
    bars.total.finish_and_clear();

    let (mut done, mut skipped, mut failed, mut stopped) = (0, 0, 0, 0);
    for (t, o) in tracks.iter().zip(&outcomes) {
        let (word, reason) = status(o);
        match o {
            Outcome::Done(_) => done += 1,
            Outcome::Skipped(_) => skipped += 1,
            Outcome::Failed(_) => failed += 1,
            Outcome::Cancelled => stopped += 1,
        }
        let figures = record_of(o)
            .map(|r| {
                format!(
                    "{:.2} LUFS, {:.2} dBTP{}",
                    r.integrated_lufs().unwrap_or(f64::NAN),
                    r.true_peak_dbtp().unwrap_or(f64::NAN),
                    if r.warnings.is_empty() {
                        String::new()
                    } else {
                        format!(", {} warning(s)", r.warnings.len())
                    }
                )
            })
            .unwrap_or(reason);
        println!(
            "{word:<8} line {:<3} {}: {figures}",
            t.line,
            t.job.out_dir.join(t.job.master_name()).display()
        );
    }
    println!(
        "batch    {} tracks: {done} done, {skipped} skipped, {failed} failed{}",
        tracks.len(),
        if stopped > 0 {
            format!(", {stopped} stopped")
        } else {
            String::new()
        }
    );
    for path in write_report(&report_stem(&args, shard), &tracks, &outcomes)? {
        println!("report   {}", path.display());
    }
    Ok(if stopped > 0 {
        eprintln!("error: stopped; finished tracks keep their records, a rerun resumes");
        ExitCode::from(crate::cli::INTERRUPTED)
    } else if failed > 0 {
        ExitCode::from(crate::cli::FILE_ERROR)
    } else {
        ExitCode::SUCCESS
    })
}

/// `prog` is the command as the user typed it, for the help.
pub fn run(prog: &str, args: Vec<String>) -> ExitCode {
    let result = match parse(args) {
        Err(e) => Err(crate::cli::Usage(crate::cli::message(&e)).into()),
        Ok(None) => {
            print!("{}", USAGE.replace("cargo xtask", prog));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Some(args)) => batch(args),
    };
    result.unwrap_or_else(|e| crate::cli::fail(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_manifest_column_is_a_render_option() {
        for (column, _) in manifest::COLUMNS {
            if *column != "mix" {
                let option = format!("--{column}");
                assert!(
                    crate::render_cli::OPTIONS.contains(&option.as_str()),
                    "{option}"
                );
            }
        }
    }

    #[test]
    fn a_row_reads_as_its_command_line() {
        let row = manifest::Row {
            line: 2,
            cells: vec![
                ("mix", "a.wav".into()),
                ("out", "o".into()),
                ("target", "-14".into()),
                ("noise-shaping", "yes".into()),
            ],
        };
        assert_eq!(
            row_args(&row),
            ["a.wav", "--out", "o", "--target", "-14", "--noise-shaping"]
        );
    }
}
