//! The offline renderer: decode · master · resample · limit · dither · encode · verify.
//! Library code, so tests drive it directly; `cargo xtask render` is a thin command line
//! over it.

pub mod album;
pub mod analysis;
pub mod batch;
pub mod cancel;
pub mod ddp;
pub mod decode;
pub mod deliver;
pub mod destinations;
pub mod dither;
pub mod encode;
pub mod error;
pub mod fade;
pub mod formats;
pub mod job;
pub mod master;
pub mod measure;
pub mod metadata;
pub mod naming;
pub mod preflight;
pub mod quality;
pub mod reference;
pub mod report;
pub mod resample;
pub mod resources;
pub mod solve;
pub mod staging;
pub mod stems;

use std::path::{Path, PathBuf};

pub use cancel::Cancel;
pub use error::RenderError;
pub use fade::Fades;
pub use formats::{Format, DEFAULT_FORMATS};
pub use job::JobError;
pub use measure::Measurement;
pub use metadata::Metadata;

use crate::dsp::ChainSettings;
use staging::Staging;

/// The loudness every render aims at unless told otherwise: Spotify's -14 LUFS integrated,
/// which Amazon, Tidal and YouTube share.
pub const DEFAULT_TARGET_LUFS: f64 = -14.0;
/// A deliverable counts as on target within this (the renderer issue's promise).
pub const LOUDNESS_TOLERANCE_LU: f64 = 0.1;

/// What to render.
#[derive(Debug, Clone)]
pub struct RenderJob {
    pub mix: PathBuf,
    /// The chain's settings; the ceiling is `settings.limiter.ceiling_dbtp`.
    pub settings: ChainSettings,
    pub out_dir: PathBuf,
    /// Overwrite deliverables that already exist.
    pub force: bool,
    /// Integrated loudness to solve the drive for; `None` renders the settings as they are.
    pub target_lufs: Option<f64>,
    pub formats: Vec<Format>,
    pub fades: Fades,
    /// Tags for every deliverable (title, artist, album, ISRC, year).
    pub metadata: Metadata,
    /// F-weighted noise shaping under the dither of the 16-bit files.
    pub noise_shaping: bool,
    /// Set from another thread (Ctrl-C) to stop the render and leave nothing behind.
    pub cancel: Cancel,
    /// Stems to master instead of the mix, which then serves as their reference
    /// (`--stems`); `None` masters the mix.
    pub stems: Option<stems::StemsJob>,
    /// Match the tonal balance and width of a reference track (`--reference`).
    pub reference: Option<reference::ReferenceOptions>,
    /// Run the tonal-balance assistant at this amount, percent (`--assist`).
    pub assist_pct: Option<f32>,
}

impl RenderJob {
    /// A job with the defaults: Spotify's target, the default set of deliverables, no fades.
    pub fn new(
        mix: impl Into<PathBuf>,
        out_dir: impl Into<PathBuf>,
        settings: ChainSettings,
    ) -> Self {
        Self {
            mix: mix.into(),
            settings,
            out_dir: out_dir.into(),
            force: false,
            target_lufs: Some(DEFAULT_TARGET_LUFS),
            formats: DEFAULT_FORMATS.to_vec(),
            fades: Fades::default(),
            metadata: Metadata::default(),
            noise_shaping: false,
            cancel: Cancel::new(),
            stems: None,
            reference: None,
            assist_pct: None,
        }
    }

    /// The name every file of this master starts with: the title when the job's tags give
    /// one, else the mix's file stem (`naming::master_name`).
    pub fn master_name(&self) -> String {
        naming::master_name(&self.mix, self.metadata.title.as_deref())
    }

    /// Where this job's `report.json` and `report.html` go.
    pub fn report_paths(&self) -> report::ReportPaths {
        report::ReportPaths::in_dir(&self.out_dir, &self.master_name())
    }
}

/// Stages a render reports progress for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Decode,
    /// A round of passes of the chain over the whole mix; the loudness solve runs several.
    Master {
        round: usize,
    },
    /// Converting rates, encoding each deliverable and decoding it back to measure it;
    /// these overlap, each deliverable is done when it has been measured.
    Deliver,
    Report,
}

impl Stage {
    pub fn label(self) -> String {
        match self {
            Stage::Decode => "decoding".into(),
            Stage::Master { round } => format!("mastering, round {round}"),
            Stage::Deliver => "converting, encoding, verifying".into(),
            Stage::Report => "writing the report".into(),
        }
    }
}

/// One delivered file and what its decoded contents measure.
#[derive(Debug, Clone)]
pub struct Deliverable {
    pub path: PathBuf,
    pub format: Format,
    pub bits: u16,
    pub measurement: Measurement,
    /// How far below the ceiling the codec stage had to limit to keep the decoded file
    /// under it (MP3), dB; 0 for lossless formats.
    pub codec_trim_db: f64,
}

/// How the loudness target was met.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loudness {
    pub target_lufs: f64,
    /// The master's integrated loudness at the mix's rate.
    pub master_lufs: f64,
    pub passes: usize,
    pub reached: bool,
    /// The gain the solve put before the limiter: the drive plus the learned gain, dB
    /// (negative for a mix that only needed turning down).
    pub gain_db: f32,
    pub drive_db: f32,
    pub output_gain_db: f32,
    /// The limiter's deepest gain reduction, dB (<= 0).
    pub peak_limiting_db: f32,
    /// How loud the master gets with 3 dB of limiting (given when the target needs more
    /// than 6 dB).
    pub loudness_at_moderate_limiting: Option<f64>,
    /// LU of loudness per dB of gain into the limiter at the solution.
    pub slope_lu_per_db: Option<f64>,
}

#[derive(Debug, Clone)]
pub struct RenderReport {
    pub mix: PathBuf,
    pub source: Measurement,
    /// What the mastering checklist found in the mix, every check, passed or not.
    pub preflight: Vec<preflight::Check>,
    pub latency_samples: usize,
    /// The settings the master was made with (drive and output gain as solved).
    pub settings: ChainSettings,
    pub loudness: Option<Loudness>,
    /// Things the engineer should read before sending the files out.
    pub warnings: Vec<String>,
    pub deliverables: Vec<Deliverable>,
    /// The render's peak resident memory, bytes (Linux), for the report.
    pub peak_memory_bytes: Option<u64>,
    /// The stems' checks and figures, when the render mastered stems.
    pub stems: Option<stems::StemsRecord>,
    /// What reference matching decided and measured, when asked for.
    pub reference: Option<reference::ReferenceRecord>,
    /// What the tonal-balance assistant suggested and applied, when asked for.
    pub assist: Option<reference::assist::AssistRecord>,
    /// Where `report.json` and `report.html` were written (`None` when nothing was
    /// delivered to report on).
    pub report: Option<report::ReportPaths>,
    /// Which of the files to send where (`destinations::which_file_where`).
    pub destinations: Vec<destinations::Destination>,
    /// Spotify's advice for a loud master that peaks above -2 dBTP, when it applies.
    pub loud_master_note: Option<String>,
    /// The fades the master was given.
    pub fades: Fades,
}

/// Reads a settings file (the ChainSettings TOML format).
pub fn load_settings(path: &Path) -> Result<ChainSettings, RenderError> {
    let text = std::fs::read_to_string(path).map_err(|e| RenderError::io(path, e))?;
    ChainSettings::from_toml(&text).map_err(|source| RenderError::Settings {
        path: path.to_path_buf(),
        source,
    })
}

/// Renders `job`: every check that can fail runs before anything is written; files are
/// written into a staging folder, decoded back and measured, and moved to their names only
/// when all of them hold the ceiling (and the loudness target, when it was reachable).
pub fn render(
    job: &RenderJob,
    progress: &mut dyn FnMut(Stage, f64),
) -> Result<RenderReport, RenderError> {
    // Refuse early what would be refused late: ranges and contradictions first, then an
    // existing master or an output that is the input itself, which cost nothing to check;
    // unreadable input is found by decoding.
    job.validate()?;
    let name = job.master_name();
    let names = |rate: u32| -> Vec<(Format, String)> {
        job.formats
            .iter()
            .map(|&f| (f, f.file_name(&name, rate)))
            .collect()
    };
    // The mix's rate decides only FLAC's name; check the others before decoding.
    for (format, name) in names(0) {
        if format != Format::Flac {
            check_target(&job.out_dir.join(name), &job.mix, job.force)?;
        }
    }
    let paths = job.report_paths();
    let report_files = [Some(&paths.json), Some(&paths.html), paths.audio.as_ref()];
    for file in report_files.into_iter().flatten() {
        check_target(file, &job.mix, job.force)?;
    }
    let settings_name = reference::settings_file_name(job, &name);
    if let Some(file) = &settings_name {
        check_target(&job.out_dir.join(file), &job.mix, job.force)?;
    }

    // Creating the staging folder is the test that the output folder is writable: a
    // read-only folder is refused now, not after the work. Dropped on any error (or Ctrl-C),
    // it removes itself and every folder it created.
    let staging = Staging::create(&job.out_dir)?;

    progress(Stage::Decode, 0.0);
    let mut audio = decode::decode_file(&job.mix)?;
    progress(Stage::Decode, 1.0);
    job.fades.check_fits(audio.duration_s())?;
    job.cancel.check()?;
    let rate = audio.sample_rate;
    let source = measure::measure(&audio.channels, rate);
    let mut preflight = preflight::check(&audio.channels, rate, &audio.source, &source);
    // Stems are checked against the mix (rate, length, alignment, null test) before
    // anything is written, and their processed sum is what the bus chain masters.
    let mut warnings = Vec::new();
    let (stem_sum, stems_record) = match &job.stems {
        Some(s) => {
            let prepared = stems::prepare(&audio.channels, rate, s, &job.cancel)?;
            warnings.extend(prepared.warnings);
            (Some(prepared.sum), Some(prepared.record))
        }
        None => (None, None),
    };
    let signal: &[Vec<f32>] = stem_sum.as_deref().unwrap_or(&audio.channels);
    let signal_lufs = match &stem_sum {
        Some(sum) => measure::measure(sum, rate).integrated_lufs,
        None => source.integrated_lufs,
    };
    let deliverable_names = names(rate);
    for (_, name) in &deliverable_names {
        check_target(&job.out_dir.join(name), &job.mix, job.force)?;
    }
    // Room for every deliverable, before the work that would fill it.
    let needed: u64 = job
        .formats
        .iter()
        .map(|f| {
            let frames = resample::output_frames(audio.frames(), rate, f.rate(rate)) as u64;
            resources::bytes_needed(*f, frames, 2)
        })
        .sum();
    resources::check_room(&job.out_dir, needed)?;
    job.cancel.check()?;

    // `validate` refused settings out of range, so this is the settings as given.
    let mut settings = job.settings;
    // Automatic decisions (reference curve, assistant moves) go into the settings before
    // the loudness solve, so the target is met with them in place.
    let mut target_lufs = job.target_lufs;
    let mut matching = match &job.reference {
        Some(options) => {
            let m = reference::prepare_job(options, signal, rate, &mut settings)?;
            if options.target_from_reference {
                target_lufs = m.record.integrated_lufs.or(target_lufs);
            }
            Some(m)
        }
        None => None,
    };
    if let Some(target) = target_lufs {
        preflight.push(preflight::already_mastered(&source, target));
    }
    let assist = job.assist_pct.map(|pct| {
        let mut record = reference::assist::suggest(signal, rate, &mut settings.eq, pct);
        if let Some(file) = &settings_name {
            record.settings_file.clone_from(file);
        }
        record
    });
    job.cancel.check()?;
    // The report's picture of the mix is analysed while the mix is mastered (the solve's
    // rounds leave a core free between passes), so the mix can be let go before delivery.
    // So is the player's preview of the mix: an MP3 at the rate the master's preview will
    // have (the MP3 deliverable's, when that is the master's preview), converted block by
    // block, so only the MP3 is kept (2.4 MB a minute).
    let master_preview_from =
        if report::player::reuses_mp3_deliverable(&job.formats, audio.duration_s()) {
            Format::Mp3
        } else {
            deliverable_names
                .get(report_master(&deliverable_names))
                .map_or(Format::Flac, |(f, _)| *f)
        };
    let preview_rate = report::player::preview_rate(master_preview_from.rate(rate));
    let ((mix_curves, mix_preview), mastering) = alongside(
        || {
            let curves = report::ReportCurves::of(report::ReportAudio {
                channels: signal,
                sample_rate: rate,
            });
            let preview = report::player::encode_preview(
                signal,
                rate,
                preview_rate,
                signal_lufs,
                &job.cancel,
            );
            (curves, preview)
        },
        || {
            master_to_target(
                job,
                signal,
                rate,
                &settings,
                target_lufs,
                signal_lufs,
                progress,
            )
        },
    );
    let (mastered, settings, loudness) = mastering?;
    warnings.extend(loudness.as_ref().map(loudness_warnings).unwrap_or_default());
    if let Some(m) = &mut matching {
        m.finish(&mastered, rate);
    }
    // From here on the master is the only whole signal the render needs: the mix (or the
    // stems' sum) goes, so delivery's conversions and encodes do not come on top of it
    // (memory, issue 8).
    let mix_channel_count = audio.channels.len();
    drop(stem_sum);
    audio.channels = Vec::new();
    let latency_samples = {
        let mut chain = crate::dsp::Chain::new();
        chain.prepare(rate as f32, master::OFFLINE_BLOCK);
        chain.update_latency(&settings)
    };
    job.cancel.check()?;
    deliver_and_report(
        job,
        staging,
        DeliveryInputs {
            mastered,
            rate,
            settings,
            loudness,
            deliverable_names,
            mix_curves,
            mix_preview,
            source,
            preflight,
            warnings,
            latency_samples,
            stems_record,
            matching,
            assist,
            settings_name,
            mix_source: audio.source,
            mix_channel_count,
        },
        progress,
    )
}

/// Runs `side` on another thread while `main` runs on this one.
fn alongside<A: Send, B>(side: impl FnOnce() -> A + Send, main: impl FnOnce() -> B) -> (A, B) {
    std::thread::scope(|scope| {
        let worker = scope.spawn(side);
        let b = main();
        // A panic in the analysis is a bug; carry it to this thread rather than hide it.
        let a = worker
            .join()
            .unwrap_or_else(|e| std::panic::resume_unwind(e));
        (a, b)
    })
}

/// The master, the settings that made it, and how its loudness was met.
type Mastering = (Vec<Vec<f32>>, ChainSettings, Option<Loudness>);

/// The master at the target (the loudness solve), or of the settings as they are.
fn master_to_target(
    job: &RenderJob,
    signal: &[Vec<f32>],
    rate: u32,
    settings: &ChainSettings,
    target_lufs: Option<f64>,
    signal_lufs: f64,
    progress: &mut dyn FnMut(Stage, f64),
) -> Result<Mastering, RenderError> {
    Ok(match target_lufs {
        Some(target) => {
            let solution = solve::solve(
                signal,
                rate,
                settings,
                target,
                signal_lufs,
                &job.fades,
                &job.cancel,
                &mut |pass, f| progress(Stage::Master { round: pass }, f),
            )?;
            let loudness = Loudness {
                target_lufs: target,
                master_lufs: solution.integrated_lufs,
                passes: solution.passes,
                reached: solution.reached,
                gain_db: solution.settings.limiter.drive_db
                    + solution.settings.target.learned_gain_db,
                drive_db: solution.settings.limiter.drive_db,
                output_gain_db: solution.settings.output.gain_db,
                peak_limiting_db: solution.mastered.peak_limiting_db,
                loudness_at_moderate_limiting: solution.loudness_at_moderate_limiting,
                slope_lu_per_db: solution.slope_lu_per_db,
            };
            (
                solution.mastered.channels,
                solution.settings,
                Some(loudness),
            )
        }
        None => {
            let mut m = master::master_pass(signal, rate, settings, &job.cancel, |f| {
                progress(Stage::Master { round: 1 }, f)
            })?;
            job.fades.apply(&mut m.channels, rate);
            (m.channels, *settings, None)
        }
    })
}

/// What delivery and the report take over from mastering.
struct DeliveryInputs {
    mastered: Vec<Vec<f32>>,
    rate: u32,
    settings: ChainSettings,
    loudness: Option<Loudness>,
    deliverable_names: Vec<(Format, String)>,
    mix_curves: report::ReportCurves,
    /// The player's preview of the mix, or why there is none.
    mix_preview: Result<report::player::PreviewClip, String>,
    source: Measurement,
    preflight: Vec<preflight::Check>,
    warnings: Vec<String>,
    latency_samples: usize,
    stems_record: Option<stems::StemsRecord>,
    matching: Option<reference::Matching>,
    assist: Option<reference::assist::AssistRecord>,
    settings_name: Option<String>,
    mix_source: decode::SourceFormat,
    mix_channel_count: usize,
}

/// Converts, encodes and checks every deliverable, writes the report, and moves it all
/// from the staging folder to the output folder.
fn deliver_and_report(
    job: &RenderJob,
    staging: Staging,
    inputs: DeliveryInputs,
    progress: &mut dyn FnMut(Stage, f64),
) -> Result<RenderReport, RenderError> {
    let DeliveryInputs {
        mastered,
        rate,
        settings,
        loudness,
        deliverable_names,
        mix_curves,
        mix_preview,
        source,
        preflight,
        mut warnings,
        latency_samples,
        stems_record,
        matching,
        assist,
        settings_name,
        mix_source,
        mix_channel_count,
    } = inputs;

    // Rate conversion, encoding and verification overlap (src/render/deliver.rs).
    progress(Stage::Deliver, 0.0);
    job.cancel.check()?;
    // The report draws the streaming master (the first lossless file). Its worker draws the
    // pictures too, while the MP3 encodes on the other core.
    let report_master = report_master(&deliverable_names);
    let target_lufs = loudness.map(|l| l.target_lufs);
    let formats: Vec<Format> = deliverable_names.iter().map(|(f, _)| *f).collect();
    let seconds = mastered.first().map_or(0, Vec::len) as f64 / f64::from(rate);
    let reuse_mp3 = report::player::reuses_mp3_deliverable(&formats, seconds);
    let delivered = deliver::deliver_all(
        &mastered,
        rate,
        &deliverable_names,
        &staging,
        deliver::EncodeOptions {
            metadata: &job.metadata,
            limiter: &settings.limiter,
            noise_shaping: job.noise_shaping,
            loudness_slope_lu_per_db: loudness.and_then(|l| l.slope_lu_per_db),
            master_lufs: loudness.map(|l| l.master_lufs),
        },
        &job.cancel,
        &mut |f| progress(Stage::Deliver, f),
        |i, _, m, encoded_from| {
            // The master's picture is drawn from the audio the file was encoded from, at its
            // rate: the file itself differs from it only by the dither, 96 dB down and more,
            // below anything the pictures can show, and the file is not held in memory.
            // The player's preview of the master is encoded from it too, for the same reason,
            // unless the MP3 deliverable serves.
            let plots = if i == report_master {
                let master_curves = report::ReportCurves::of(report::ReportAudio {
                    channels: encoded_from,
                    sample_rate: m.sample_rate,
                });
                let plots = report::Plots::from_curves(
                    &mix_curves,
                    &master_curves,
                    target_lufs,
                    report::level_match_db(source.integrated_lufs, m.integrated_lufs),
                )?;
                let preview = (!reuse_mp3).then(|| {
                    report::player::encode_preview(
                        encoded_from,
                        m.sample_rate,
                        report::player::preview_rate(m.sample_rate),
                        m.integrated_lufs,
                        &job.cancel,
                    )
                });
                Some((plots, preview))
            } else {
                None
            };
            Ok((m, plots))
        },
    )?;
    drop(mastered);
    let mut plots: Option<report::Plots> = None;
    let mut master_preview = None;
    let mut written = Vec::with_capacity(delivered.len());
    let mut measured = Vec::with_capacity(delivered.len());
    for (w, (m, p)) in delivered {
        written.push(w);
        measured.push(m);
        if let Some((p, preview)) = p {
            plots = Some(p);
            master_preview = preview;
        }
    }
    if reuse_mp3 {
        master_preview = written
            .iter()
            .zip(&measured)
            .find(|(w, _)| w.format == Format::Mp3)
            .map(|(w, m)| report::player::preview_of_mp3_file(&w.staged, m));
    }
    let preview = match (mix_preview, master_preview) {
        (Ok(mix), Some(Ok(master))) => Ok(report::player::Preview { mix, master }),
        (Err(e), _) | (_, Some(Err(e))) => Err(e),
        (Ok(_), None) => Err("no master to preview".into()),
    };
    job.cancel.check()?;
    let reference_record = matching.map(|m| m.record);
    if let Some(p) = &mut plots {
        p.figures.extend(reference::figures(
            reference_record.as_ref(),
            assist.as_ref(),
        )?);
    }
    if let Some(name) = &settings_name {
        reference::write_settings(&staging.path(name), &settings)?;
    }
    let ceiling = settings.limiter.ceiling_dbtp as f64;
    for (w, m) in written.iter().zip(&measured) {
        let path = job.out_dir.join(&w.name);
        if m.true_peak_dbtp > ceiling {
            return Err(RenderError::Verification {
                path,
                detail: format!(
                    "true peak {:.2} dBTP is over the {ceiling:.1} dBTP ceiling",
                    m.true_peak_dbtp
                ),
            });
        }
        if let Some(l) = &loudness {
            let miss = m.integrated_lufs - l.target_lufs;
            if miss.abs() > LOUDNESS_TOLERANCE_LU {
                let detail = format!(
                    "integrated loudness {:.2} LUFS misses the {:.1} LUFS target by {miss:+.2} LU",
                    m.integrated_lufs, l.target_lufs
                );
                // An MP3 whose codec pushes a loud master's peaks so far over the ceiling
                // that its second limiter cannot keep the loudness (deliver.rs) is still a
                // good preview under the ceiling: delivered with the shortfall named, rather
                // than failing every other file. A lossless file that misses is a fault.
                if w.format == Format::Mp3 && miss < 0.0 {
                    warnings.push(format!(
                        "{}: {detail}. At this loudness the MP3 encoder pushes the peaks over \
                         the ceiling, and holding them under it costs loudness; send the WAVs \
                         to stores and keep the MP3 for previews",
                        w.name
                    ));
                } else if l.reached {
                    return Err(RenderError::Verification { path, detail });
                } else {
                    warnings.push(format!("{}: {detail}", w.name));
                }
            }
        }
    }
    job.cancel.check()?;

    let deliverables = written
        .into_iter()
        .zip(measured)
        .map(|(w, measurement)| Deliverable {
            path: job.out_dir.join(&w.name),
            format: w.format,
            bits: w.format.bits(),
            measurement,
            codec_trim_db: w.codec_trim_db,
        })
        .collect::<Vec<Deliverable>>();
    let delivered: Vec<destinations::Delivered<'_>> = deliverables
        .iter()
        .map(|d| destinations::Delivered {
            format: d.format,
            path: &d.path,
        })
        .collect();
    let destinations = destinations::which_file_where(&delivered);
    // Judged on the streaming master, the file the platforms get (the report's choice).
    let loud_master_note = deliverables
        .iter()
        .find(|d| d.format != Format::Mp3)
        .or(deliverables.first())
        .and_then(|d| {
            let m = &d.measurement;
            destinations::loud_master_note(m.integrated_lufs, m.true_peak_dbtp)
        });
    let mut render_report = RenderReport {
        mix: job.mix.clone(),
        source,
        preflight,
        latency_samples,
        settings,
        loudness,
        warnings,
        deliverables,
        peak_memory_bytes: None,
        stems: stems_record,
        reference: reference_record,
        assist,
        report: None,
        destinations,
        loud_master_note,
        fades: job.fades,
    };

    // The report goes into the staging folder with the files it describes, so it appears
    // with them or not at all.
    progress(Stage::Report, 0.0);
    if let Some(plots) = &plots {
        render_report.peak_memory_bytes = resources::peak_memory_bytes();
        let document = report::ReportDocument::from_render(
            &render_report,
            &mix_source,
            mix_channel_count,
            report::utc_now_rfc3339(),
        );
        let paths = job.report_paths();
        render_report.report = Some(report::write_report_files_with_preview(
            staging.dir(),
            &paths,
            &document,
            plots,
            Some(&preview),
        )?);
    }
    progress(Stage::Report, 1.0);
    job.cancel.check()?;
    staging.commit(&job.out_dir)?;
    render_report.peak_memory_bytes = resources::peak_memory_bytes();
    Ok(render_report)
}

/// The deliverable the report draws and the player previews: the first lossless one (the
/// first of any kind when all are MP3), as `ReportDocument::streaming_master` picks it.
fn report_master(deliverable_names: &[(Format, String)]) -> usize {
    deliverable_names
        .iter()
        .position(|(f, _)| *f != Format::Mp3)
        .unwrap_or(0)
}

/// What the loudness solve has to tell the engineer.
fn loudness_warnings(l: &Loudness) -> Vec<String> {
    let mut out = Vec::new();
    if !l.reached {
        out.push(format!(
            "the {:.1} LUFS target is out of reach: the master reaches {:.1} LUFS with {:.1} dB \
             of drive",
            l.target_lufs, l.master_lufs, l.drive_db
        ));
    }
    if -l.peak_limiting_db > solve::HEAVY_LIMITING_DB {
        let moderate = l
            .loudness_at_moderate_limiting
            .map(|lufs| {
                format!(
                    "; with {:.0} dB of limiting it would reach {lufs:.1} LUFS",
                    solve::MODERATE_LIMITING_DB
                )
            })
            .unwrap_or_default();
        out.push(format!(
            "heavy limiting: the {:.1} LUFS target takes {:.1} dB of gain reduction at the \
             loudest peak{moderate}",
            l.target_lufs, -l.peak_limiting_db
        ));
    }
    out
}

/// A deliverable may not replace the input, nor an existing file without `force`.
fn check_target(target: &Path, mix: &Path, force: bool) -> Result<(), RenderError> {
    if same_file(target, mix) {
        return Err(RenderError::WouldOverwriteInput {
            path: target.to_path_buf(),
        });
    }
    if target.exists() && !force {
        return Err(RenderError::OutputExists {
            path: target.to_path_buf(),
        });
    }
    Ok(())
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
