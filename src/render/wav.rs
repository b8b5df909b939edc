//! The foundation renderer's WAV entry point, kept so existing callers compile: the writer
//! itself (with metadata and noise shaping) is [`super::encode::wav`].

use std::path::Path;

use super::encode::{self, PcmOptions};
use super::error::RenderError;
use super::metadata::Metadata;

pub use super::encode::{temporary_path, DITHER_SEED};

/// Writes planar `channels` as `bits`-bit integer PCM at `sample_rate`, TPDF-dithered with
/// the default seed, untagged. Atomic like every encoder.
pub fn write_wav(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    bits: u16,
) -> Result<(), RenderError> {
    encode::wav::write_wav(
        path,
        channels,
        sample_rate,
        PcmOptions::new(bits),
        &Metadata::default(),
    )
}
