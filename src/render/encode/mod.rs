//! Encoders for the deliverables: PCM WAV (16/24-bit, RIFF INFO and ID3v2 tags), FLAC
//! (Vorbis comments) and MP3 320 kbps CBR (LAME, ID3v2, codec-aware ceiling).
//!
//! Every encoder writes under a temporary name in the destination folder (so the final rename
//! is atomic on the same file system) and renames only when the file is complete and, for MP3,
//! verified; on any error the temporary file is removed and the error names the destination.

pub mod flac;
pub mod id3;
pub mod mp3;
pub mod wav;

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use super::dither::NoiseShaping;
use super::error::RenderError;

/// Seed of the dither generators, fixed so two renders of the same settings are identical.
pub const DITHER_SEED: u64 = 0x4C_4154_4845; // "LATHE"

/// How float samples become integer PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PcmOptions {
    /// 16 or 24.
    pub bits: u16,
    /// Noise shaping with the TPDF dither (meant for 16 bits; see [`NoiseShaping`]).
    pub shaping: NoiseShaping,
    /// Seed of the dither generators; the default is [`DITHER_SEED`].
    pub seed: u64,
}

impl PcmOptions {
    /// Flat TPDF dither to `bits` bits with the default seed.
    pub fn new(bits: u16) -> Self {
        Self {
            bits,
            shaping: NoiseShaping::None,
            seed: DITHER_SEED,
        }
    }

    /// The same, with noise shaping.
    pub fn with_shaping(self, shaping: NoiseShaping) -> Self {
        Self { shaping, ..self }
    }
}

/// A temporary name next to `path`, in the same folder so the final rename is atomic.
pub fn temporary_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// A file being written under its temporary name. Dropping it without [`Partial::commit`]
/// removes the temporary file, so an error anywhere leaves nothing behind.
pub(crate) struct Partial {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl Partial {
    pub(crate) fn new(target: &Path) -> Self {
        Self {
            target: target.to_path_buf(),
            tmp: temporary_path(target),
            committed: false,
        }
    }

    /// The temporary file's path (to decode it back before committing).
    pub(crate) fn path(&self) -> &Path {
        &self.tmp
    }

    /// Writes the temporary file with `write`, replacing what an earlier attempt wrote.
    pub(crate) fn write_with(
        &self,
        write: impl FnOnce(&mut BufWriter<File>) -> std::io::Result<()>,
    ) -> Result<(), RenderError> {
        let file = File::create(&self.tmp).map_err(|e| RenderError::io(&self.target, e))?;
        let mut out = BufWriter::with_capacity(1 << 20, file);
        write(&mut out)
            .and_then(|()| out.flush())
            .and_then(|()| out.get_ref().sync_all())
            .map_err(|e| RenderError::io(&self.target, e))
    }

    /// Writes `bytes` as the temporary file's whole content.
    pub(crate) fn write_all(&self, bytes: &[u8]) -> Result<(), RenderError> {
        self.write_with(|out| out.write_all(bytes))
    }

    /// Renames the temporary file to the destination.
    pub(crate) fn commit(mut self) -> Result<(), RenderError> {
        std::fs::rename(&self.tmp, &self.target).map_err(|e| RenderError::io(&self.target, e))?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Checks what every encoder needs: 1 or 2 channels of equal, non-zero length.
pub(crate) fn check_channels(
    path: &Path,
    format: &'static str,
    channels: &[Vec<f32>],
) -> Result<usize, RenderError> {
    let err = |detail: String| RenderError::Encode {
        path: path.to_path_buf(),
        format,
        detail,
    };
    if !(1..=2).contains(&channels.len()) {
        return Err(err(format!(
            "{} channels; deliverables are mono or stereo",
            channels.len()
        )));
    }
    let frames = channels[0].len();
    if channels.iter().any(|c| c.len() != frames) {
        return Err(err("the channels differ in length".into()));
    }
    if frames == 0 {
        return Err(err("no audio".into()));
    }
    Ok(frames)
}
