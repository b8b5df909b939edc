//! From one master at the mix's rate to every deliverable: convert the rate once per
//! delivery rate, hold the ceiling again at that rate (the safety stage of DESIGN.md), then
//! encode each format. Work that does not depend on other work runs on its own thread, so
//! both cores are busy.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::error::RenderError;
use super::formats::Format;
use super::master::safety_limit;
use super::parallel;
use super::resample::resample;
use super::staging::Staging;
use super::wav::write_wav;
use crate::dsp::settings::LimiterSettings;

/// One deliverable written into the staging folder.
#[derive(Debug, Clone)]
pub struct Written {
    pub format: Format,
    /// The name it will have in the output folder.
    pub name: String,
    /// Where it is now (inside the staging folder).
    pub staged: PathBuf,
    /// Gain the encoder had to take off to keep the decoded file under the ceiling (MP3), dB.
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

/// Encodes one format from the master at its rate into the staging folder.
pub fn encode(
    format: Format,
    name: String,
    audio: &[Vec<f32>],
    rate: u32,
    staging: &Staging,
) -> Result<Written, RenderError> {
    let staged = staging.path(&name);
    let codec_trim_db = match format {
        Format::Wav { bits, .. } => {
            write_wav(&staged, audio, rate, bits)?;
            0.0
        }
        Format::Mp3 | Format::Flac => {
            return Err(RenderError::Unsupported {
                what: format!("{format} is not built yet"),
            })
        }
    };
    Ok(Written {
        format,
        name,
        staged,
        codec_trim_db,
    })
}
