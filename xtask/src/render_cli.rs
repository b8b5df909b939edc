//! `cargo xtask render`: argument parsing, progress and the printed summary. The work itself
//! is `lathe::render::render`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lathe::dsp::ChainSettings;
use lathe::render::job::FadeEnd;
use lathe::render::preflight::Severity;
use lathe::render::{
    self, formats, Fades, Format, JobError, Metadata, RenderJob, RenderReport, Stage,
};

const USAGE: &str = "\
Masters a mix offline through Lathe's chain and writes every deliverable, each decoded back
and measured: on the loudness target, under the true-peak ceiling.

Usage: cargo xtask render <mix> [options]
       cargo xtask render --album <album.toml> [--out <dir>] [--formats <list>] [--force]
       cargo xtask render --batch <manifest.csv> [--jobs <n>] [--shard <i>/<n>]
                         (a manifest of tracks; cargo xtask batch --help, docs/batch.md)

Arguments:
  <mix>                  The mix: WAV (16/24/32-bit int, 32/64-bit float), AIFF/AIFC or FLAC,
                         44.1 to 192 kHz, mono or stereo. It is only read, never changed.
                         A lossy mix (MP3, AAC in .m4a, Ogg Vorbis) is accepted with a
                         warning: mastering bakes its codec's artefacts in.

Loudness and level:
  --target <LUFS>        Integrated loudness of the masters, -36 to -5, e.g. --target -14
                         (--target reference takes the reference's, see --reference)
  --platform <name>      Take the target from a platform: spotify (-14), apple (-16),
                         youtube (-14), amazon (-14), tidal (-14), deezer (-15), ebu (-23),
                         atsc (-24), cd (-9). Default: spotify.
  --ceiling <dBTP>       True-peak ceiling, -6 to 0. Default: -1.0, e.g. --ceiling -1.5
  --as-set               No loudness solve: render the settings exactly as they are, e.g. a
                         file the plugin exported, whose gain Learn already set. The report
                         still measures every deliverable.

Deliverables:
  --formats <list>       Comma-separated: wav44-16, wav44-24, wav48-16, wav48-24, mp3, flac
                         (24-bit at 88.2 or 96 kHz, from the mix's rate family), or
                         `default` (the four WAVs and the MP3) or `all`.
                         e.g. --formats default,flac
  --noise-shaping        F-weighted noise shaping under the 16-bit files' dither (default:
                         flat TPDF dither).
  --fade-in <ms>         Fade the start in over this many milliseconds, e.g. --fade-in 20
  --fade-out <s>         Fade the end out over this many seconds, e.g. --fade-out 8
                         (the two fades together no longer than the mix)
  --title <text>         Metadata written into every file (INFO, ID3v2, Vorbis comments):
  --artist <text>          e.g. --title \"Night Drive\" --artist \"The Band\"; the title
                           also names the files (Night Drive_44k1_16bit.wav)
  --album <text>           (a value ending in .toml masters an album instead; see Album)
  --isrc <code>            e.g. --isrc GB-XYZ-26-00001
  --year <yyyy>

Stems:
  --stems <role>=<file> ...
                         Master up to four stems instead of the mix; the mix is their
                         reference. Roles: rhythm, harmony, low, vocal, e.g.
                         --stems rhythm=drums.wav low=bass.wav vocal=vox.wav
                         Each must have the mix's rate and length and be sample-aligned with
                         it; the report gives the offsets, the null test (stem sum against
                         the mix) and each stem's loudness. Each stem runs EQ, compressor and
                         gain from the settings file's [stems.<role>] section.
  --allow-offset         Shift a stem that is not aligned with the mix into place instead of
                         refusing it.

Tonal balance:
  --reference <file>     Match the tonal balance and the width per band of a reference track
                         (any format the decoder reads, any rate): the difference of the
                         loudest sections' spectra, limited to +-6 dB, fitted with EQ
                         sections. The report shows the curve, the sections and the 1/3-octave
                         distance to the reference before and after. Writes
                         settings.matched.toml beside the masters.
  --match-amount <%>     How much of the match curve to apply, 0 (off) to 100. Default: 70.
  --match-smoothing <oct>
                         How far both spectra are smoothed before matching, octaves from
                         500 Hz up and wider toward the bass, 0 (follow every 1/6-octave
                         band) to 2. Default: 0.5, or match_eq.smoothing_oct from --settings.
  --assist               Without a reference: compare the mix with a typical commercial
                         spectrum slope and move the tonal EQ's bands toward it (at most
                         +-3 dB each). Writes settings.assisted.toml beside the masters.
  --assist-amount <%>    Scale the assistant's moves, 0 (off) to 100. Default: 100.

Album:
  --album <file>         Master an album: the tracks in order with their gaps, titles, ISRCs
                         and settings (see docs/rendering.md, \"Albums\"). Writes every track's
                         deliverables, the album as one 44.1 kHz / 16-bit WAV, a DDP 2.00
                         image for the CD plant, a loudness picture of the whole album and
                         the album report (album_report.json, album_report.html).

Other:
  --settings <file>      Chain settings (TOML, the ChainSettings format; see docs/settings.md). The
                         drive and output gain in it are solved anew for the target, unless
                         --as-set.
  --out <dir>            Output folder. Default: masters/<mix name>/
  --force                Replace masters that already exist (only once the new ones are
                         complete and verified).
  --json                 Print the report's JSON (album_report.json for an album) on
                         stdout instead of the summary. Every render writes
                         <name>.report.json and <name>.report.html (with plots and a
                         player) beside the masters, <name> being the title or the mix's
                         file name; an album also writes album_report.json and
                         album_report.html.
  -h, --help             This text.

Example:
  cargo xtask render tests/data/francium_excerpt.flac --platform apple --formats all \\
      --title \"Francium\" --out masters/francium
";

/// Every option `parse` knows, for the "did you mean" of an unknown one.
pub(crate) const OPTIONS: &[&str] = &[
    "--help",
    "--settings",
    "--target",
    "--reference",
    "--match-amount",
    "--match-smoothing",
    "--assist",
    "--assist-amount",
    "--platform",
    "--ceiling",
    "--formats",
    "--fade-in",
    "--fade-out",
    "--title",
    "--artist",
    "--album",
    "--isrc",
    "--year",
    "--out",
    "--force",
    "--json",
    "--noise-shaping",
    "--as-set",
    "--stems",
    "--allow-offset",
    "--batch",
];

/// The names `--platform` takes (`custom` is `--target`).
const PLATFORMS: &[&str] = &[
    "spotify", "apple", "youtube", "amazon", "tidal", "deezer", "ebu", "atsc", "cd",
];

/// The target of a `--platform` name, from the plugin's own table (`dsp::platforms`);
/// `custom` is no platform here, `--target` says the number.
fn platform_target(name: &str) -> Option<f64> {
    match name.parse::<lathe::dsp::platforms::Platform>() {
        Ok(lathe::dsp::platforms::Platform::Custom) | Err(_) => None,
        Ok(p) => Some(p.target_lufs() as f64),
    }
}

#[derive(Default)]
pub(crate) struct Args {
    mix: PathBuf,
    settings: Option<PathBuf>,
    target_lufs: Option<f64>,
    platform: Option<String>,
    ceiling_dbtp: Option<f32>,
    formats: Option<Vec<Format>>,
    fades: Fades,
    metadata: Metadata,
    out: Option<PathBuf>,
    force: bool,
    json: bool,
    noise_shaping: bool,
    as_set: bool,
    album: Option<PathBuf>,
    stems: Vec<lathe::render::stems::StemInput>,
    allow_offset: bool,
    reference: Option<PathBuf>,
    target_reference: bool,
    match_amount_pct: Option<f32>,
    match_smoothing_oct: Option<f32>,
    assist: bool,
    assist_amount_pct: Option<f32>,
}

fn number<T: std::str::FromStr>(option: &str, value: Option<String>) -> Result<T> {
    let value = value.with_context(|| format!("{option} needs a value"))?;
    value
        .trim()
        .parse()
        .map_err(|_| anyhow::anyhow!("{option}: '{value}' is not a number"))
}

fn percent(option: &str, value: Option<String>) -> Result<f32> {
    let pct: f32 = number(option, value)?;
    if !(0.0..=100.0).contains(&pct) {
        bail!("{option}: {pct} is outside 0 to 100 %");
    }
    Ok(pct)
}

fn text(option: &str, value: Option<String>) -> Result<Option<String>> {
    Ok(Some(
        value.with_context(|| format!("{option} needs a value"))?,
    ))
}

pub(crate) fn parse(args: Vec<String>) -> Result<Option<Args>> {
    let mut parsed = Args::default();
    let mut mix = None;
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        match a.as_str() {
            "-h" | "--help" => return Ok(None),
            "--settings" => {
                parsed.settings = Some(it.next().context("--settings needs a file")?.into())
            }
            "--target" => {
                let value = it.next();
                if value.as_deref() == Some("reference") {
                    parsed.target_reference = true;
                } else {
                    parsed.target_lufs = Some(number("--target", value)?);
                }
            }
            "--reference" => {
                parsed.reference = Some(it.next().context("--reference needs a file")?.into())
            }
            "--match-amount" => {
                parsed.match_amount_pct = Some(percent("--match-amount", it.next())?)
            }
            "--match-smoothing" => {
                let oct: f32 = number("--match-smoothing", it.next())?;
                let range = lathe::dsp::eq::match_curve::MATCH_SMOOTHING_OCT;
                if !(range.min..=range.max).contains(&oct) {
                    bail!(
                        "--match-smoothing: {oct} is outside {} to {} octaves",
                        range.min,
                        range.max
                    );
                }
                parsed.match_smoothing_oct = Some(oct);
            }
            "--assist" => parsed.assist = true,
            "--assist-amount" => {
                parsed.assist_amount_pct = Some(percent("--assist-amount", it.next())?)
            }
            "--platform" => {
                let name = it.next().context("--platform needs a name")?;
                if platform_target(&name).is_none() {
                    let hint = crate::cli::nearest(&name, PLATFORMS)
                        .map(|k| format!("; did you mean {k}?"))
                        .unwrap_or_default();
                    bail!(
                        "--platform {name} is unknown{hint} (one of {})",
                        PLATFORMS.join(", ")
                    );
                }
                parsed.platform = Some(name);
            }
            "--ceiling" => parsed.ceiling_dbtp = Some(number("--ceiling", it.next())?),
            "--formats" => {
                let list = it.next().context("--formats needs a list")?;
                parsed.formats = Some(
                    formats::parse_formats(&list).map_err(|e| anyhow::anyhow!("--formats: {e}"))?,
                );
            }
            "--fade-in" => parsed.fades.fade_in_ms = number("--fade-in", it.next())?,
            "--fade-out" => parsed.fades.fade_out_s = number("--fade-out", it.next())?,
            "--title" => parsed.metadata.title = text("--title", it.next())?,
            "--artist" => parsed.metadata.artist = text("--artist", it.next())?,
            // `--album` is both the album title of a single's tags and, given a .toml file,
            // the album to master; the command lines use both.
            "--album" => {
                let value = it
                    .next()
                    .context("--album needs a title or an album.toml")?;
                if value.ends_with(".toml") {
                    parsed.album = Some(value.into());
                } else {
                    parsed.metadata.album = Some(value);
                }
            }
            "--isrc" => parsed.metadata.isrc = text("--isrc", it.next())?,
            "--year" => parsed.metadata.year = text("--year", it.next())?,
            "--out" => parsed.out = Some(it.next().context("--out needs a folder")?.into()),
            "--force" => parsed.force = true,
            "--json" => parsed.json = true,
            "--noise-shaping" => parsed.noise_shaping = true,
            "--as-set" => parsed.as_set = true,
            "--stems" => {
                // Every following `role=file` belongs to --stems.
                while let Some(stem) = it.next_if(|v| !v.starts_with('-') && v.contains('=')) {
                    parsed.stems.push(
                        lathe::render::stems::StemInput::parse(&stem)
                            .map_err(|e| anyhow::anyhow!("--stems: {e}"))?,
                    );
                }
                if parsed.stems.is_empty() {
                    bail!("--stems needs one to four role=file pairs, e.g. --stems vocal=vox.wav");
                }
            }
            "--allow-offset" => parsed.allow_offset = true,
            s if s.starts_with('-') => {
                // One line, with the nearest option when the word looks like a typo of one;
                // the whole help would bury the mistake.
                let hint = crate::cli::nearest(s, OPTIONS)
                    .map(|k| format!("; did you mean {k}?"))
                    .unwrap_or_default();
                bail!("unknown option {s}{hint} (--help lists the options)");
            }
            s if mix.is_none() => mix = Some(PathBuf::from(s)),
            s => bail!("one mix at a time; got a second one: {s}"),
        }
    }
    if parsed.target_reference && parsed.reference.is_none() {
        bail!("--target reference needs --reference <file>");
    }
    if parsed.match_amount_pct.is_some() && parsed.reference.is_none() {
        bail!("--match-amount needs --reference <file>");
    }
    if parsed.match_smoothing_oct.is_some() && parsed.reference.is_none() {
        bail!("--match-smoothing needs --reference <file>");
    }
    if parsed.assist_amount_pct.is_some() && !parsed.assist {
        bail!("--assist-amount needs --assist");
    }
    if parsed.assist && parsed.reference.is_some() {
        bail!("--assist judges a mix without a reference; give --reference or --assist");
    }
    if parsed.target_reference && (parsed.target_lufs.is_some() || parsed.platform.is_some()) {
        bail!("--target reference and another target; give one");
    }
    if parsed.target_lufs.is_some() && parsed.platform.is_some() {
        bail!("--target and --platform both set the target; give one");
    }
    if parsed.as_set && (parsed.target_lufs.is_some() || parsed.platform.is_some()) {
        bail!("--as-set renders without a loudness target; leave out --target and --platform");
    }
    if parsed.stems.len() > 4 {
        bail!("--stems: at most four stems (rhythm, harmony, low, vocal)");
    }
    if parsed.allow_offset && parsed.stems.is_empty() {
        bail!("--allow-offset applies to --stems; no stems given");
    }
    if parsed.album.is_some() {
        if !parsed.stems.is_empty() {
            bail!("--stems masters one song; not with --album");
        }
        if mix.is_some() {
            bail!("give a mix or --album, not both");
        }
        return Ok(Some(parsed));
    }
    parsed.mix = mix.context("no mix given (--help shows how to call it)")?;
    Ok(Some(parsed))
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
        self.update_labelled(&stage.label(), fraction);
    }

    fn update_labelled(&mut self, label: &str, fraction: f64) {
        if !self.shown && self.started.elapsed() > Duration::from_secs(1) {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.shown = true;
        }
        // Each stage fills the bar once; the label says which stage and which pass.
        self.bar.set_message(label.to_string());
        self.bar
            .set_position((fraction.clamp(0.0, 1.0) * 1000.0) as u64);
    }
}

fn render_album(args: Args, path: PathBuf) -> Result<()> {
    use lathe::render::album::{self, spec, AlbumJob};
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("{}: cannot read the album file", path.display()))?;
    let base = match spec::settings_path(&path, &text)? {
        Some(settings) => Some(render::load_settings(&settings)?),
        None => None,
    };
    let album = spec::parse(&path, &text, base.as_ref())?;
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let stem = path.file_stem().unwrap_or_default();
        PathBuf::from("masters").join(stem)
    });
    let job = AlbumJob {
        album,
        out_dir,
        formats: args
            .formats
            .unwrap_or_else(|| render::DEFAULT_FORMATS.to_vec()),
        force: args.force,
        cancel: render::Cancel::new(),
    };
    let cancel = job.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.cancel());
    let mut progress = Progress::new();
    let report = album::render_album(&job, &mut |track, stage, f| {
        progress.update_labelled(&format!("track {track}: {}", stage.label()), f)
    });
    progress.bar.finish_and_clear();
    let report = report?;
    if args.json {
        // The same document the render wrote beside the album.
        let text = std::fs::read_to_string(&report.report_json)
            .with_context(|| format!("{}: cannot read the report", report.report_json.display()))?;
        print!("{text}");
        return Ok(());
    }
    print_album_summary(&report);
    Ok(())
}

/// A cell of the album table: the value or a dash.
fn cell(value: Option<f64>, decimals: usize) -> String {
    value.map_or("-".to_string(), |v| format!("{v:.decimals$}"))
}

fn print_album_summary(report: &lathe::render::album::AlbumReport) {
    let doc = &report.document;
    let mode = match doc.loudness_mode {
        lathe::render::album::AlbumLoudness::Album => "album-relative",
        lathe::render::album::AlbumLoudness::Track => "per track",
    };
    println!(
        "album    {} / {}: {mode} loudness, target {:.1} LUFS",
        doc.title, doc.artist, doc.target_lufs
    );
    // One layout for the header, the tracks and the album's line: start and gap in CD time
    // (MM:SS:FF from the start of the disc, track 1's pre-gap included), the loudness
    // figures of each delivered 44.1 kHz / 16-bit file.
    let row = |c: [&str; 12]| {
        println!(
            " {:>2}  {:8} {:>8}  {:8}  {:8}  {:>6}  {:>4}  {:>6}  {:>4}  {:>6}  {:>5}  {}",
            c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8], c[9], c[10], c[11]
        )
    };
    row([
        "#", "start", "(s)", "gap", "length", "target", "gain", "LUFS", "LRA", "dBTP", "PLR",
        "title",
    ]);
    for t in &doc.tracks {
        let m = &t.measurement;
        let gain = if t.gain_db.abs() < 0.05 {
            "0.0".to_string()
        } else {
            format!("{:+.1}", t.gain_db)
        };
        row([
            &t.number.to_string(),
            &t.start.msf,
            &format!("{:.2}", t.start.seconds),
            &t.gap_before.msf,
            &t.cd_length.msf,
            &format!("{:.1}", t.target_lufs),
            &gain,
            &cell(m.integrated_lufs, 2),
            &cell(m.loudness_range_lu, 1),
            &cell(m.true_peak_dbtp, 2),
            &cell(m.plr_db, 1),
            &t.title,
        ]);
    }
    let a = &doc.album;
    row([
        "",
        "lead-out",
        "",
        "",
        &doc.lead_out.msf,
        "",
        "",
        &cell(a.integrated_lufs, 2),
        &cell(a.loudness_range_lu, 1),
        &cell(a.true_peak_dbtp, 2),
        &cell(a.plr_db, 1),
        "album (the whole CD stream)",
    ]);
    for w in &report.warnings {
        println!("WARNING  {w}");
    }
    println!(
        "wrote    {} (DDP 2.00, lead-out {})",
        report.ddp.dir.display(),
        report.ddp.lead_out.digits()
    );
    for path in [
        &report.cd_stream,
        &report.loudness_png,
        &report.report_json,
        &report.report_html,
    ] {
        println!("wrote    {}", path.display());
    }
}

/// Which options the command line set, so a refusal names the one the user typed.
pub(crate) struct Given {
    ceiling: bool,
}

/// A job the library refused, as one line naming the option and its allowed range: a usage
/// error (exit code 2).
pub(crate) fn refusal(e: &JobError, given: &Given, job: &RenderJob) -> anyhow::Error {
    let line = match e {
        JobError::Target { value, min, max } => {
            // `--target 14` is nearly always `--target -14` with the minus forgotten.
            let hint = if *value > 0.0 && (f64::from(*min)..=f64::from(*max)).contains(&-value) {
                format!("; did you mean --target -{value}?")
            } else {
                String::new()
            };
            format!("--target {value} is outside {min} to {max} LUFS{hint}")
        }
        JobError::Setting {
            field,
            value,
            min,
            max,
        } if field == "limiter.ceiling_dbtp" && given.ceiling => {
            format!("--ceiling {value} is outside {min} to {max} dBTP")
        }
        JobError::Fade { which, value } => {
            let unit = if *which == FadeEnd::In { "ms" } else { "s" };
            format!("--{which} {value} {unit}: a fade is 0 or more")
        }
        JobError::FadesLongerThanMix {
            fade_in_s,
            fade_out_s,
            mix_s,
        } => format!(
            "--fade-in {} ms and --fade-out {fade_out_s} s together are longer than {} \
             ({mix_s:.2} s); they may total 0 to {mix_s:.2} s",
            fade_in_s * 1000.0,
            job.mix.display()
        ),
        JobError::MatchAmount { value, min, max } => {
            format!("--match-amount {value} is outside {min} to {max} %")
        }
        JobError::MatchSmoothing { value, min, max } => {
            format!("--match-smoothing {value} is outside {min} to {max} octaves")
        }
        JobError::AssistAmount { value } => {
            format!("--assist-amount {value} is outside 0 to 100 %")
        }
        JobError::ReferenceTargetWithoutSolve => "--as-set renders without a loudness target, \
            --target reference asks for one; give one of them"
            .to_string(),
        // Any other rule: the library's own words.
        other => other.to_string(),
    };
    crate::cli::Usage(line).into()
}

/// The job a (single-mix) command line asks for, checked against the library's rules; a
/// refusal is a usage error naming the option. `lathe batch` builds every manifest row's job
/// through this same function, so a row and a command line can never mean different things.
pub(crate) fn build_job(args: Args) -> Result<(RenderJob, Given)> {
    let options = Given {
        ceiling: args.ceiling_dbtp.is_some(),
    };
    // The settings file may carry [stems.<role>] sections beside the chain's.
    let (mut settings, stem_settings) = match &args.settings {
        Some(path) => {
            let s = render::stems::load_render_settings(path)?;
            (s.chain, s.stems)
        }
        None => (ChainSettings::default(), Default::default()),
    };
    // The range is the library's rule (`RenderJob::validate`); `refusal` names the option.
    if let Some(ceiling) = args.ceiling_dbtp {
        settings.limiter.ceiling_dbtp = ceiling;
    }
    let target_lufs = match (&args.platform, args.target_lufs) {
        _ if args.as_set => None,
        (Some(name), _) => platform_target(name),
        (None, Some(t)) => Some(t),
        (None, None) => Some(render::DEFAULT_TARGET_LUFS),
    };
    // The default folder is named as the files are: after the title, else the mix.
    let out_dir = args.out.clone().unwrap_or_else(|| {
        let name = render::naming::master_name(&args.mix, args.metadata.title.as_deref());
        PathBuf::from("masters").join(name)
    });
    let mut job = RenderJob::new(args.mix, out_dir, settings);
    job.force = args.force;
    job.target_lufs = target_lufs;
    job.fades = args.fades;
    job.metadata = args.metadata;
    job.noise_shaping = args.noise_shaping;
    if !args.stems.is_empty() {
        job.stems = Some(render::stems::StemsJob {
            inputs: args.stems,
            settings: stem_settings,
            allow_offset: args.allow_offset,
        });
    }
    if let Some(path) = args.reference {
        let mut options = render::reference::ReferenceOptions::new(path);
        if let Some(pct) = args.match_amount_pct {
            options.amount_pct = pct;
        }
        options.target_from_reference = args.target_reference;
        options.smoothing_oct = args.match_smoothing_oct;
        job.reference = Some(options);
    }
    if args.assist {
        job.assist_pct = Some(args.assist_amount_pct.unwrap_or(100.0));
    }
    if let Some(formats) = args.formats {
        job.formats = formats;
    }
    // The job's rules, before any work or progress bar; `render` checks them again.
    if let Err(e) = job.validate() {
        return Err(refusal(&e, &options, &job));
    }
    Ok((job, options))
}

fn render(args: Args) -> Result<()> {
    if let Some(path) = args.album.clone() {
        return render_album(args, path);
    }
    let json = args.json;
    let (job, options) = build_job(args)?;
    // Ctrl-C stops the render between blocks; the staging folder goes with it.
    let cancel = job.cancel.clone();
    let _ = ctrlc::set_handler(move || cancel.cancel());

    let mut progress = Progress::new();
    let report = render::render(&job, &mut |stage, f| progress.update(stage, f));
    progress.bar.finish_and_clear();
    let report = match report {
        Err(render::RenderError::Job(e)) => return Err(refusal(&e, &options, &job)),
        r => r?,
    };
    if json {
        // The same document the render wrote beside the masters.
        let path = report
            .report
            .map_or_else(|| job.report_paths().json, |p| p.json);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("{}: cannot read the report", path.display()))?;
        print!("{text}");
    } else {
        print_summary(&report);
    }
    Ok(())
}

fn print_summary(report: &RenderReport) {
    let memory = report
        .peak_memory_bytes
        .map(|b| format!(", peak memory {} MB", b >> 20))
        .unwrap_or_default();
    let s = &report.source;
    println!("mix      {}", report.mix.display());
    println!(
        "         {:.1} s at {} Hz: {:.1} LUFS integrated, {:.1} LU range, {:.2} dBTP",
        s.duration_s, s.sample_rate, s.integrated_lufs, s.loudness_range_lu, s.true_peak_dbtp
    );
    for c in &report.preflight {
        let mark = match c.severity {
            Severity::Ok => "ok     ",
            Severity::Note => "note   ",
            Severity::Warning => "WARNING",
            Severity::Problem => "PROBLEM",
        };
        println!("check    {mark} {:<16} {}", c.name, c.detail);
    }
    if let Some(st) = &report.stems {
        for c in &st.checks {
            let mark = if c.passed { "ok  " } else { "NOTE" };
            println!("stems    {mark} {:<16} {}", c.name, c.detail);
        }
        let lufs = |v: Option<f64>| v.map_or("-".to_string(), |l| format!("{l:.1} LUFS"));
        for s in &st.stems {
            println!(
                "stem     {:<8} gain {:+.1} dB, {} -> {}",
                s.role.name(),
                s.gain_db,
                lufs(s.lufs_before),
                lufs(s.lufs_after)
            );
        }
        println!("mastered {}", st.mastered_signal);
    }
    if let Some(l) = &report.loudness {
        println!(
            "target   {:.1} LUFS: gain {:+.2} dB into the limiter, output {:.2} dB, limiting up to \
             {:.1} dB ({} passes)",
            l.target_lufs,
            l.gain_db,
            l.output_gain_db,
            (-l.peak_limiting_db).max(0.0),
            l.passes
        );
    }
    if let Some(r) = &report.reference {
        let d = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v:.2} dB"));
        println!(
            "match    {} at {:.0} %: 1/3-octave distance {} before, {} after ({})",
            r.path,
            r.amount_pct,
            d(r.distance_before_db),
            d(r.distance_after_db),
            r.distance_fall_pct
                .map_or("-".to_string(), |f| format!("{f:.0} % less"))
        );
    }
    if let Some(a) = &report.assist {
        let moves: Vec<String> = a
            .moves
            .iter()
            .map(|m| format!("{} {:+.1} dB", m.band, m.move_db))
            .collect();
        println!(
            "assist   {:.0} % of bands outside +-{:.0} dB of the target: {} ({})",
            100.0 * a.outside_fraction,
            a.tolerance_db,
            moves.join(", "),
            a.settings_file
        );
    }
    for w in &report.warnings {
        println!("WARNING  {w}");
    }
    for d in &report.deliverables {
        let m = &d.measurement;
        println!("wrote    {}", d.path.display());
        println!(
            "         {}: {:.2} LUFS integrated, {:.1} LU range, {:.2} dBTP true peak, \
             {:.2} dBFS sample peak, {:.1} s",
            d.format,
            m.integrated_lufs,
            m.loudness_range_lu,
            m.true_peak_dbtp,
            m.sample_peak_dbfs,
            m.duration_s,
        );
    }
    println!(
        "latency  {} samples (trimmed){memory}",
        report.latency_samples
    );
    print_destinations(report);
}

/// Which file to send where, as the report's table has it.
fn print_destinations(report: &RenderReport) {
    if report.deliverables.is_empty() {
        return;
    }
    let width = report
        .destinations
        .iter()
        .map(|d| d.destination.chars().count())
        .max()
        .unwrap_or(0);
    for (i, d) in report.destinations.iter().enumerate() {
        let label = if i == 0 { "send" } else { "" };
        let what = d.file.as_deref().unwrap_or(&d.why);
        println!("{label:<8} {:<width$}  {what}", d.destination);
    }
    if let Some(note) = &report.loud_master_note {
        println!("NOTE     {note}");
    }
    if let Some(paths) = &report.report {
        println!("report   {}", paths.html.display());
    }
}

/// `prog` is the command as the user typed it (`cargo xtask` or `lathe`), for the help.
/// Exit codes: 0 done, 2 a usage error (nothing was read or written), 1 anything else.
pub fn run(prog: &str, mut args: Vec<String>) -> ExitCode {
    // `render --batch <manifest.csv> …` is `batch <manifest.csv> …`.
    if let Some(i) = args.iter().position(|a| a == "--batch") {
        args.remove(i);
        return crate::batch_cli::run(prog, args);
    }
    let result = match parse(args) {
        // Every parse error is a mistake in the command line.
        Err(e) => Err(crate::cli::Usage(crate::cli::message(&e)).into()),
        Ok(None) => {
            print!("{}", USAGE.replace("cargo xtask", prog));
            Ok(())
        }
        Ok(Some(args)) => render(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::cli::fail(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn stems_take_every_following_role_file_pair() {
        let a = parse(args(
            "mix.wav --stems rhythm=d.wav low=b.wav vocal=v.wav --allow-offset --force",
        ))
        .unwrap()
        .unwrap();
        let roles: Vec<&str> = a.stems.iter().map(|s| s.role.name()).collect();
        assert_eq!(roles, ["rhythm", "low", "vocal"]);
        assert_eq!(a.stems[2].path, PathBuf::from("v.wav"));
        assert!(a.allow_offset && a.force);
        assert_eq!(a.mix, PathBuf::from("mix.wav"));
        // The mix may follow the stems.
        let a = parse(args("--stems harmony=o.wav mix.wav"))
            .unwrap()
            .unwrap();
        assert_eq!((a.stems.len(), a.mix), (1, PathBuf::from("mix.wav")));
    }

    #[test]
    fn every_platform_named_in_the_hint_has_a_target() {
        for name in PLATFORMS {
            assert!(platform_target(name).is_some(), "{name}");
        }
    }

    #[test]
    fn stem_mistakes_are_refused_with_a_reason() {
        let err = |line: &str| parse(args(line)).err().expect(line).to_string();
        assert!(err("mix.wav --stems").contains("one to four"));
        assert!(err("mix.wav --stems drums=d.wav").contains("rhythm, harmony, low and vocal"));
        assert!(err("mix.wav --allow-offset").contains("--stems"));
        assert!(
            err("mix.wav --stems rhythm=a harmony=b low=c vocal=d vocal=e")
                .contains("at most four")
        );
    }
}
