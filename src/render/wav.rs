//! Writing PCM WAV deliverables with hound, atomically: the file appears under its final name
//! only once it is complete.

use std::path::{Path, PathBuf};

use super::dither::{quantise, Tpdf};
use super::error::RenderError;

/// Seed of the dither generator, fixed so two renders of the same settings are identical.
pub const DITHER_SEED: u64 = 0x4C_4154_4845; // "LATHE"

/// A temporary name next to `path`, in the same folder so the final rename is atomic.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Writes planar `channels` as `bits`-bit integer PCM at `sample_rate`, TPDF-dithered.
pub fn write_wav(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    bits: u16,
) -> Result<(), RenderError> {
    let tmp = temporary_path(path);
    let result = write_to(&tmp, channels, sample_rate, bits);
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        RenderError::io(path, e)
    })
}

fn write_to(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    bits: u16,
) -> Result<(), RenderError> {
    let wav_err = |e: hound::Error| RenderError::Wav {
        path: path.to_path_buf(),
        detail: e.to_string(),
    };
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate,
        bits_per_sample: bits,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).map_err(wav_err)?;
    let mut dither = Tpdf::new(DITHER_SEED);
    let frames = channels.first().map_or(0, Vec::len);
    for i in 0..frames {
        for c in channels {
            writer
                .write_sample(quantise(c[i], bits as u32, &mut dither))
                .map_err(wav_err)?;
        }
    }
    writer.finalize().map_err(wav_err)
}
