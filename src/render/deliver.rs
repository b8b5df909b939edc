//! From one master at the mix's rate to every deliverable: convert the rate once per
//! delivery rate, hold the ceiling again at that rate (the safety stage of DESIGN.md), then
//! encode each format. Work that does not depend on other work runs on its own thread, so
//! both cores are busy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::decode::decode_file;
use super::dither::NoiseShaping;
use super::encode::{self, PcmOptions};
use super::error::RenderError;
use super::formats::{Format, FLAC_BITS};
use super::master::safety_limit;
use super::metadata::Metadata;
use super::parallel;
use super::resample::resample;
use super::solve::integrated_lufs;
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

/// Masters at each delivery rate the formats need, each converted from `mastered` and then
/// held under the ceiling at its new rate. Runs the conversions in parallel.
pub fn at_delivery_rates(
    mastered: &[Vec<f32>],
    source_rate: u32,
    formats: &[Format],
    limiter: &LimiterSettings,
) -> Result<BTreeMap<u32, Vec<Vec<f32>>>, RenderError> {
    let mut rates: Vec<u32> = formats.iter().map(|f| f.rate(source_rate)).collect();
    rates.sort_unstable();
    rates.dedup();
    let converted = parallel::map(&rates, |&rate| {
        if rate == source_rate {
            return Ok(mastered.to_vec());
        }
        let converted = resample(mastered, source_rate, rate)?;
        Ok(safety_limit(&converted, rate, limiter))
    })?;
    Ok(rates.into_iter().zip(converted).collect())
}

/// What every encode of one render shares.
#[derive(Debug, Clone, Copy)]
pub struct EncodeOptions<'a> {
    pub metadata: &'a Metadata,
    pub limiter: &'a LimiterSettings,
    /// F-weighted noise shaping for the 16-bit files.
    pub noise_shaping: bool,
}

/// Encodes one format from the master at its rate into the staging folder.
pub fn encode(
    format: Format,
    name: String,
    audio: &[Vec<f32>],
    rate: u32,
    staging: &Staging,
    options: EncodeOptions,
) -> Result<Written, RenderError> {
    let staged = staging.path(&name);
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
        Format::Mp3 => mp3_under_the_ceiling(&staged, audio, rate, &options)?,
    };
    Ok(Written {
        format,
        name,
        staged,
        codec_trim_db,
    })
}

/// Decoded MP3s are held this far under the ceiling: the codec check reads true peak with
/// ebur128 (4x oversampling at 44.1 kHz), and a 16x meter can read a few hundredths higher
/// on a codec's ringing.
pub const MP3_MARGIN_DB: f64 = 0.05;
/// The MP3's loudness is kept this close to the master's when its peaks are limited again.
const MP3_LOUDNESS_TOLERANCE_LU: f64 = 0.01;
/// Encodes before the MP3 is given up on.
const MP3_ATTEMPTS: u32 = 6;

/// Writes the MP3 so that its *decoded* true peak holds the ceiling. MP3's filter bank rings
/// around transients and can push a master that held -1 dBTP over it by half a dB. Turning
/// the whole file down by that much (the usual cure) would leave the MP3 quieter than the
/// other deliverables, so instead the same true-peak limiter runs again at a ceiling lowered
/// by the overshoot: only the peaks that the codec pushed over move, the loudness stays.
/// Returns how far below the ceiling the MP3's limiter had to go, dB.
fn mp3_under_the_ceiling(
    path: &std::path::Path,
    audio: &[Vec<f32>],
    rate: u32,
    options: &EncodeOptions,
) -> Result<f64, RenderError> {
    let ceiling = options.limiter.ceiling_dbtp as f64 - MP3_MARGIN_DB;
    let loudness = integrated_lufs(audio, rate);
    let mut lowered_db = 0.0f64;
    let mut true_peak = f64::NAN;
    for _ in 0..MP3_ATTEMPTS {
        let limited;
        let source = if lowered_db > 0.0 {
            let mut lower = *options.limiter;
            lower.ceiling_dbtp = (ceiling - lowered_db) as f32;
            limited = relimit_keeping_loudness(audio, rate, &lower, loudness);
            &limited[..]
        } else {
            audio
        };
        encode::mp3::write_mp3(path, source, rate, 0.0, options.metadata)?;
        let decoded = decode_file(path)?;
        true_peak = encode::mp3::true_peak_dbtp_of(&decoded.channels, rate).unwrap_or(f64::NAN);
        if true_peak <= ceiling {
            return Ok(lowered_db);
        }
        lowered_db += true_peak - ceiling + 0.05;
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

/// `audio` through the true-peak limiter at `limiter`'s (lowered) ceiling, with the gain into
/// it raised until the result is as loud as `loudness_lufs` again: limiting the peaks a
/// little harder takes a few hundredths of a LU off, and the MP3 must stay on target.
fn relimit_keeping_loudness(
    audio: &[Vec<f32>],
    rate: u32,
    limiter: &LimiterSettings,
    loudness_lufs: f64,
) -> Vec<Vec<f32>> {
    let mut gain_db = 0.0f64;
    let mut limited = safety_limit(audio, rate, limiter);
    for _ in 0..4 {
        let missing = loudness_lufs - integrated_lufs(&limited, rate);
        if !missing.is_finite() || missing.abs() <= MP3_LOUDNESS_TOLERANCE_LU {
            break;
        }
        gain_db += missing;
        let gain = 10f64.powf(gain_db / 20.0) as f32;
        let driven: Vec<Vec<f32>> = audio
            .iter()
            .map(|c| c.iter().map(|x| x * gain).collect())
            .collect();
        limited = safety_limit(&driven, rate, limiter);
    }
    limited
}
