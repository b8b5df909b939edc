//! From one master at the mix's rate to every deliverable: convert the rate once per
//! delivery rate, hold the master's loudness and the ceiling again at that rate (the safety
//! stage of DESIGN.md), then encode each format. Work that does not depend on other work runs on its own thread, so
//! both cores are busy.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, OnceLock};

use super::cancel::Cancel;
use super::dither::NoiseShaping;
use super::encode::{self, PcmOptions};
use super::error::RenderError;
use super::formats::{Format, FLAC_BITS};
use super::master::{safety_limit_blocks, safety_limit_in_place};
use super::measure::{measure_file, Measurement, Meter};
use super::metadata::Metadata;
use super::resample::resample;
use super::solve::{integrated_lufs, next_gain};
use super::staging::Staging;
use crate::dsp::settings::LimiterSettings;

/// One deliverable written into the staging folder.
#[derive(Debug, Clone)]
pub struct Written {
    pub format: Format,
    /// The name it will have in the output folder.
    pub name: String,
    /// Where it is now (inside the staging folder).
    pub staged: PathBuf,
    /// How far below the ceiling the codec stage had to limit (MP3), dB.
    pub codec_trim_db: f64,
}

/// A master converted to another rate, or why it could not be (rubato's message).
type Conversion = Result<Vec<Vec<f32>>, String>;

/// The master at each delivery rate, converted from the master at the mix's rate the first
/// time a deliverable asks for it, then brought back to the master's loudness and held under
/// the ceiling at its new rate (see [`on_target_at_rate`]). Whoever asks while the conversion
/// runs waits for it, so each rate is converted once.
struct AtRates<'a> {
    mastered: &'a [Vec<f32>],
    source_rate: u32,
    limiter: &'a LimiterSettings,
    /// The master's integrated loudness at its own rate, which every rate keeps.
    master_lufs: f64,
    slope_lu_per_db: Option<f64>,
    /// The converted masters, or why the conversion failed (rubato's message).
    converted: BTreeMap<u32, OnceLock<Conversion>>,
}

impl<'a> AtRates<'a> {
    fn new(
        mastered: &'a [Vec<f32>],
        source_rate: u32,
        rates: impl Iterator<Item = u32>,
        options: &EncodeOptions<'a>,
    ) -> Self {
        let converted: BTreeMap<u32, OnceLock<Conversion>> = rates
            .filter(|&r| r != source_rate)
            .map(|r| (r, OnceLock::new()))
            .collect();
        // Measured only when another rate needs it; the solve usually knows it already.
        let master_lufs = match options.master_lufs {
            Some(l) => l,
            None if converted.is_empty() => f64::NAN,
            None => integrated_lufs(mastered, source_rate),
        };
        Self {
            mastered,
            source_rate,
            limiter: options.limiter,
            master_lufs,
            slope_lu_per_db: options.loudness_slope_lu_per_db,
            converted,
        }
    }

    fn get(&self, rate: u32) -> Result<&[Vec<f32>], RenderError> {
        let Some(cell) = self.converted.get(&rate) else {
            return Ok(self.mastered);
        };
        let converted = cell.get_or_init(|| {
            resample(self.mastered, self.source_rate, rate)
                .map(|c| {
                    on_target_at_rate(
                        c,
                        rate,
                        self.limiter,
                        self.master_lufs,
                        self.slope_lu_per_db,
                    )
                })
                .map_err(|e| match e {
                    RenderError::Resample { detail, .. } => detail,
                    other => other.to_string(),
                })
        });
        converted
            .as_deref()
            .map_err(|detail| RenderError::Resample {
                from: self.source_rate,
                to: rate,
                detail: detail.clone(),
            })
    }
}

/// A converted master differs from the master in loudness by more than this only when the
/// conversion took something audible away: rubato's passband is flat to a few thousandths
/// of a dB, so music loses nothing measurable, but energy above the new rate's Nyquist
/// frequency (a bright synth's harmonics, a square wave's, a tone at 23 kHz) counts in
/// BS.1770's K-weighted loudness at 48 or 96 kHz and is gone at 44.1 kHz: a full-scale
/// square wave with a 19 kHz tone lost 0.18 LU.
const RATE_LOUDNESS_TOLERANCE_LU: f64 = 0.01;

/// The master converted to `rate`, at the master's loudness and under the ceiling. Where the
/// conversion lost loudness (see [`RATE_LOUDNESS_TOLERANCE_LU`]) the gain that wins it back
/// is found like the MP3's (`gain_keeping_loudness`: passes of the same true-peak limiter
/// that only measure), so each file is on target at its own rate rather than only the
/// master at the mix's. Otherwise the limiter only holds the ceiling, as before: a no-op
/// where nothing is over.
fn on_target_at_rate(
    mut converted: Vec<Vec<f32>>,
    rate: u32,
    limiter: &LimiterSettings,
    master_lufs: f64,
    slope: Option<f64>,
) -> Vec<Vec<f32>> {
    let now = integrated_lufs(&converted, rate);
    if master_lufs.is_finite()
        && now.is_finite()
        && (now - master_lufs).abs() > RATE_LOUDNESS_TOLERANCE_LU
    {
        let gain_db = gain_keeping_loudness(&converted, rate, limiter, master_lufs, 0.0, slope);
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        for c in &mut converted {
            for x in c.iter_mut() {
                *x *= gain;
            }
        }
    }
    safety_limit_in_place(converted, rate, limiter)
}

/// Writes every deliverable into the staging folder and measures each as decoded back from
/// disk, block by block (no deliverable is held whole), handing the measurement and the
/// audio it was encoded from to `check` on the same thread. Work runs on as many
/// threads as the machine has cores, taking the deliverables longest first: the MP3 (LAME
/// is single-threaded and the codec check may encode twice) starts at once, the files at the
/// mix's own rate need no conversion, and by the time a worker reaches a file at another
/// rate its conversion is usually done. Checking each file as soon as it is written keeps
/// both cores busy while the MP3 encodes. Results come back in `deliverables`' order; the
/// first error stops the workers at their next deliverable. `progress` hears, on the
/// calling thread, the fraction of deliverables done each time one is.
#[allow(clippy::too_many_arguments)]
pub fn deliver_all<T: Send>(
    mastered: &[Vec<f32>],
    source_rate: u32,
    deliverables: &[(Format, String)],
    staging: &Staging,
    options: EncodeOptions,
    cancel: &Cancel,
    progress: &mut dyn FnMut(f64),
    check: impl Fn(usize, &Written, Measurement, &[Vec<f32>]) -> Result<T, RenderError> + Sync,
) -> Result<Vec<(Written, T)>, RenderError> {
    let rates = AtRates::new(
        mastered,
        source_rate,
        deliverables.iter().map(|(f, _)| f.rate(source_rate)),
        &options,
    );
    let mut order: Vec<usize> = (0..deliverables.len()).collect();
    order.sort_by_key(|&i| {
        let (format, _) = deliverables[i];
        (
            format != Format::Mp3,
            format.rate(source_rate) != source_rate,
        )
    });
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let one = |i: usize| -> Result<(Written, T), RenderError> {
        cancel.check()?;
        let (format, name) = &deliverables[i];
        let rate = format.rate(source_rate);
        let audio = rates.get(rate)?;
        cancel.check()?;
        let (written, measured) = encode(*format, name.clone(), audio, rate, staging, options)?;
        cancel.check()?;
        let measured = match measured {
            Some(m) => m,
            None => measure_file(&written.staged)?,
        };
        let checked = check(i, &written, measured, audio)?;
        Ok((written, checked))
    };
    let workers = std::thread::available_parallelism()
        .map_or(2, |n| n.get())
        .clamp(1, deliverables.len().max(1));
    let (finished, heard) = mpsc::channel::<()>();
    type Done<T> = (usize, Result<(Written, T), RenderError>);
    let mut done: Vec<Done<T>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let finished = finished.clone();
                let (order, next, failed, one) = (&order, &next, &failed, &one);
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    while !failed.load(Ordering::Relaxed) {
                        let Some(&i) = order.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        let result = one(i);
                        if result.is_err() {
                            failed.store(true, Ordering::Relaxed);
                        }
                        mine.push((i, result));
                        // The listener may be gone only if the calling thread panicked.
                        let _ = finished.send(());
                    }
                    mine
                })
            })
            .collect();
        // Every worker holds a sender; the listener stops when the last one ends.
        drop(finished);
        let total = deliverables.len().max(1) as f64;
        for (n, ()) in heard.iter().enumerate() {
            progress((n + 1) as f64 / total);
        }
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|_| vec![(usize::MAX, Err(RenderError::WorkerPanicked))])
            })
            .collect()
    });
    // Any error wins over the results: the one of the earliest deliverable, in the
    // deliverables' order, so the message does not depend on which worker was faster.
    done.sort_by_key(|(i, _)| *i);
    if let Some(pos) = done.iter().position(|(_, r)| r.is_err()) {
        return Err(done
            .swap_remove(pos)
            .1
            .err()
            .unwrap_or(RenderError::WorkerPanicked));
    }
    if done.len() != deliverables.len() {
        return Err(RenderError::WorkerPanicked);
    }
    done.into_iter().map(|(_, r)| r).collect()
}

/// What every encode of one render shares.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions<'a> {
    pub metadata: &'a Metadata,
    pub limiter: &'a LimiterSettings,
    /// F-weighted noise shaping for the 16-bit files.
    pub noise_shaping: bool,
    /// LU per dB of gain into the limiter at the master's loudness (the solve's), when known:
    /// the MP3's codec stage predicts from it the gain that keeps the MP3 as loud.
    pub loudness_slope_lu_per_db: Option<f64>,
    /// The master's integrated loudness at the mix's rate, when the solve measured it; every
    /// delivery rate is brought back to it. Measured here when not given.
    pub master_lufs: Option<f64>,
}

/// Encodes one format from the master at its rate into the staging folder. The MP3 comes
/// with its measurement, which the codec check had to make anyway.
fn encode(
    format: Format,
    name: String,
    audio: &[Vec<f32>],
    rate: u32,
    staging: &Staging,
    options: EncodeOptions,
) -> Result<(Written, Option<Measurement>), RenderError> {
    let staged = staging.path(&name);
    let mut measured = None;
    let codec_trim_db = match format {
        Format::Wav { bits, .. } => {
            let shaping = if bits == 16 && options.noise_shaping {
                NoiseShaping::FWeighted
            } else {
                NoiseShaping::None
            };
            let pcm = PcmOptions::new(bits).with_shaping(shaping);
            encode::wav::write_wav(&staged, audio, rate, pcm, options.metadata)?;
            0.0
        }
        Format::Flac => {
            let pcm = PcmOptions::new(FLAC_BITS);
            encode::flac::write_flac(&staged, audio, rate, pcm, options.metadata)?;
            0.0
        }
        Format::Mp3 => {
            let (lowered_db, back) = mp3_under_the_ceiling(&staged, audio, rate, &options)?;
            measured = Some(back);
            lowered_db
        }
    };
    let written = Written {
        format,
        name,
        staged,
        codec_trim_db,
    };
    Ok((written, measured))
}

/// Decoded MP3s are held this far under the ceiling: the codec check reads true peak with
/// ebur128 (4x oversampling at 44.1 kHz), and a 16x meter can read a few hundredths higher
/// on a codec's ringing.
pub const MP3_MARGIN_DB: f64 = 0.05;
/// The MP3's loudness is kept this close to the master's when its peaks are limited again.
/// Finer than this is noise: on the benchmark mix the relimited loudness moved by 0.006 LU
/// for 0.08 dB of gain in one place and by 0.03 LU in another. With the master within
/// `solve::TOLERANCE_LU` (0.02) of the target and the codec's own few thousandths, the MP3
/// stays well inside the ±0.1 LU the renderer promises.
const MP3_LOUDNESS_TOLERANCE_LU: f64 = 0.03;
/// The flattest loudness slope the MP3's relimit is taken to have, LU per dB.
const MIN_RELIMIT_SLOPE: f64 = 0.25;
/// The most gain the MP3's second limiter is given to win loudness back, dB: more would make
/// a master of its own, not a touch-up of the codec's peaks.
const MAX_RELIMIT_GAIN_DB: f64 = 6.0;
/// Limiter passes, after the first, spent on keeping the MP3's loudness.
const MP3_RELIMIT_PASSES: usize = 5;
/// Encodes before the MP3 is given up on.
const MP3_ATTEMPTS: u32 = 6;
/// The MP3's limiter starts this far under the ceiling. LAME at 320 kbps pushed the decoded
/// true peak of masters that held -1.0 dBTP 0.04 to 0.14 dB over the -1.05 dBTP it must hold
/// (four shared mixes and the benchmark mix), and lowering the limiter's ceiling moves the
/// decoded peak by anything from a third to more than the lowering (the codec's ringing is
/// not the waveform's). 0.3 dB held on all of them at the first encode; a master the codec
/// pushes further still gets a second one. An encode costs more than a limiter pass, so
/// starting low is cheaper than finding out.
const MP3_FIRST_LOWERING_DB: f64 = 0.3;

/// Writes the MP3 so that its *decoded* true peak holds the ceiling. MP3's filter bank rings
/// around transients and can push a master that held -1 dBTP over it by half a dB. Turning
/// the whole file down by that much (the usual cure) would leave the MP3 quieter than the
/// other deliverables, so instead the same true-peak limiter runs again at a ceiling lowered
/// by the overshoot: only the peaks that the codec pushed over move, the loudness stays.
/// Returns how far below the ceiling the MP3's limiter had to go, dB, and the decoded MP3's
/// measurement.
fn mp3_under_the_ceiling(
    path: &std::path::Path,
    audio: &[Vec<f32>],
    rate: u32,
    options: &EncodeOptions,
) -> Result<(f64, Measurement), RenderError> {
    let ceiling = options.limiter.ceiling_dbtp as f64 - MP3_MARGIN_DB;
    let loudness = integrated_lufs(audio, rate);
    let mut lowered_db = MP3_FIRST_LOWERING_DB;
    let mut true_peak = f64::NAN;
    for _ in 0..MP3_ATTEMPTS {
        let mut lower = *options.limiter;
        lower.ceiling_dbtp = (ceiling - lowered_db) as f32;
        let gain_db = gain_keeping_loudness(
            audio,
            rate,
            &lower,
            loudness,
            lowered_db + MP3_MARGIN_DB,
            options.loudness_slope_lu_per_db,
        );
        encode_limited_mp3(path, audio, rate, &lower, gain_db, options.metadata)?;
        let measured = measure_file(path)?;
        true_peak = measured.true_peak_dbtp;
        if true_peak <= ceiling {
            return Ok((lowered_db, measured));
        }
        // Twice the excess: the decoded peak can fall by as little as a third of the lowering.
        lowered_db += 2.0 * (true_peak - ceiling) + 0.05;
    }
    let _ = std::fs::remove_file(path);
    Err(RenderError::CeilingNotMet {
        path: path.to_path_buf(),
        ceiling_dbtp: ceiling,
        true_peak_dbtp: true_peak,
        gain_db: -lowered_db,
        attempts: MP3_ATTEMPTS,
    })
}

/// The gain into the true-peak limiter at `limiter`'s ceiling, `lowered_db` under the
/// master's, that keeps `audio` as loud as `loudness_lufs`: limiting the peaks a little
/// harder takes a few hundredths of a LU off, and the MP3 must stay on target. The passes
/// only measure (`safety_limit_blocks`): the limited audio is made once more, for the
/// encoder, and never held.
///
/// The first gain is predicted. A limiter is scale-invariant: lowering its ceiling by Δ dB
/// is driving it Δ dB harder and turning its output down by Δ. Driving harder buys
/// `slope` LU per dB (the solve measured it at this master), so the loss is (1 − slope)·Δ
/// and a gain of Δ·(1 − slope)/slope wins it back. The relimit is a second limiter on a
/// limited master, not the chain's own, so the prediction is a start, not the answer: the
/// next gain corrects by the slope again, and once passes lie either side of the target it
/// is interpolated between them. On the benchmark mix the loss without the prediction was
/// 0.23 LU; with it, 0.03. Without a slope (a render of the settings as they are) the gain
/// is found like the master's (`solve::next_gain`).
fn gain_keeping_loudness(
    audio: &[Vec<f32>],
    rate: u32,
    limiter: &LimiterSettings,
    loudness_lufs: f64,
    lowered_db: f64,
    slope: Option<f64>,
) -> f64 {
    // A relimit by a few tenths of a dB buys at least a quarter of a LU per dB (0.35 on the
    // benchmark mix between 0 and 0.8 dB, 0.72 on the demo's between -2.1 and +1.05 dB);
    // below that the prediction would overshoot.
    let slope = slope.map(|s| s.clamp(MIN_RELIMIT_SLOPE, 1.0));
    let first_gain_db = slope.map_or(0.0, |s| lowered_db * (1.0 - s) / s);
    let mut points = vec![(
        first_gain_db,
        limited_lufs(audio, rate, limiter, first_gain_db),
    )];
    let miss = |p: &(f64, f64)| loudness_lufs - p.1;
    for _ in 0..MP3_RELIMIT_PASSES {
        let Some(best) = points
            .iter()
            .filter(|p| p.1.is_finite())
            .min_by(|a, b| miss(a).abs().total_cmp(&miss(b).abs()))
            .copied()
        else {
            break;
        };
        if miss(&best).abs() <= MP3_LOUDNESS_TOLERANCE_LU {
            break;
        }
        let brackets = points.iter().any(|p| miss(p) > 0.0) && points.iter().any(|p| miss(p) < 0.0);
        // Between points either side of the target, interpolate (`solve::next_gain`).
        // Otherwise step from the closest by a slope no flatter than a relimit's: a secant
        // through points a tenth of a dB apart is noise at this scale (on the benchmark mix
        // it gave 0.07 and overshot by 0.11 LU).
        let next = if brackets || slope.is_none() {
            next_gain(&points, loudness_lufs)
        } else {
            let s = wide_secant(&points).unwrap_or(slope.unwrap_or(1.0));
            Some(best.0 + miss(&best) / s)
        };
        let Some(gain_db) = next else {
            break;
        };
        let gain_db = gain_db.clamp(-MAX_RELIMIT_GAIN_DB, MAX_RELIMIT_GAIN_DB);
        if points.iter().any(|p| p.0 == gain_db) {
            // At the bound already: more gain cannot be had (a limiter's output saturates;
            // the francium excerpt's MP3 at -7 LUFS stays at -7.85 LUFS under a ceiling
            // lowered 1.6 dB, whatever the gain).
            break;
        }
        points.push((gain_db, limited_lufs(audio, rate, limiter, gain_db)));
    }
    points
        .iter()
        .filter(|p| p.1.is_finite())
        .min_by(|a, b| miss(a).abs().total_cmp(&miss(b).abs()))
        .map_or(0.0, |p| p.0)
}

/// Two relimit passes at least this far apart in gain, dB, measure the slope better than the
/// solve's figure: at club loudness the MP3's second limiter, a dB or more under the
/// master's ceiling, buys far less than the chain did (0.14 LU per dB on the francium
/// excerpt at -9 LUFS, against the solve's 0.39), and stepping by the solve's slope fell
/// 0.19 LU short after every pass.
const WIDE_SECANT_DB: f64 = 0.5;
/// The flattest slope a secant is trusted with, LU per dB: flatter, a step would run away.
const MIN_SECANT_SLOPE: f64 = 0.05;

/// The slope between the last two passes, when they lie [`WIDE_SECANT_DB`] apart or more.
fn wide_secant(points: &[(f64, f64)]) -> Option<f64> {
    let [.., (g0, l0), (g1, l1)] = points else {
        return None;
    };
    let span = g1 - g0;
    (span.abs() >= WIDE_SECANT_DB && l0.is_finite() && l1.is_finite())
        .then(|| ((l1 - l0) / span).clamp(MIN_SECANT_SLOPE, 1.0))
}

/// Integrated loudness of `audio` at `gain_db` through the limiter, measured block by block.
fn limited_lufs(audio: &[Vec<f32>], rate: u32, limiter: &LimiterSettings, gain_db: f64) -> f64 {
    let gain = 10f64.powf(gain_db / 20.0) as f32;
    let mut meter = Meter::loudness_only(audio.len(), rate);
    safety_limit_blocks(audio, rate, limiter, gain, &mut |planes| meter.add(planes));
    meter.integrated_lufs()
}

/// Encodes the MP3 of `audio` at `gain_db` through the limiter into `path`. The limiter runs
/// on a thread of its own, a few blocks ahead of LAME: the limited audio passes through and
/// is never held whole, and the limiter's time hides under the encoder's.
fn encode_limited_mp3(
    path: &std::path::Path,
    audio: &[Vec<f32>],
    rate: u32,
    limiter: &LimiterSettings,
    gain_db: f64,
    metadata: &Metadata,
) -> Result<(), RenderError> {
    let frames = audio.iter().map(Vec::len).min().unwrap_or(0);
    let mut mp3 = encode::mp3::Mp3Stream::new(audio.len(), rate, frames).map_err(|detail| {
        RenderError::Encode {
            path: path.to_path_buf(),
            format: "MP3",
            detail,
        }
    })?;
    let gain = 10f64.powf(gain_db / 20.0) as f32;
    let (blocks, arriving) = mpsc::sync_channel::<Vec<Vec<f32>>>(8);
    let pushed = std::thread::scope(|scope| {
        scope.spawn(move || {
            safety_limit_blocks(audio, rate, limiter, gain, &mut |planes| {
                // False when the encoder has stopped (it failed): no point limiting on.
                blocks
                    .send(planes.iter().map(|p| p.to_vec()).collect())
                    .is_ok()
            });
        });
        for block in arriving {
            let planes: Vec<&[f32]> = block.iter().map(|p| &p[..]).collect();
            mp3.push(&planes, 1.0)?;
        }
        Ok(())
    });
    pushed.map_err(|detail| RenderError::Encode {
        path: path.to_path_buf(),
        format: "MP3",
        detail,
    })?;
    encode::mp3::write_mp3_stream(path, mp3, metadata)
}
