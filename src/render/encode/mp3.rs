//! MP3 deliverables: 320 kbps CBR through LAME 3.100 (mp3lame-encoder), an ID3v2.3 tag, and a
//! codec-aware ceiling.
//!
//! An MP3 decoder rebuilds the waveform from quantised spectra, so a master that holds
//! -1 dBTP as PCM typically decodes with peaks a few tenths of a dB higher (AES TD1004,
//! "Recommendations for Loudness of Internet Audio Streaming and On-Demand Distribution",
//! 2021, which is why it recommends -1 dBTP as the maximum for lossy delivery). So the file is
//! decoded back after encoding, its true peak measured per ITU-R BS.1770-4 (ebur128), and if it
//! is over the ceiling the master is encoded again at a gain lowered by the overshoot plus a
//! small margin, until the decoded file holds the ceiling.
//!
//! Gapless: LAME writes an "Info" (Xing) frame with its LAME extension, which records the
//! encoder delay and the padding; symphonia reads it and trims both, so the decoded file has
//! exactly the master's length and alignment. LAME's own ID3 writer is not used (it has no
//! ISRC frame); the tag from [`super::id3`] is put in front of the stream and LAME's final Info
//! frame (written by `lame_get_lametag_frame` once the stream is complete) replaces the
//! placeholder frame at the start of the audio.

use std::path::Path;

use ebur128::{EbuR128, Mode as MeterMode};
use mp3lame_encoder::{
    max_required_buffer_size, Bitrate, Builder, DualPcm, FlushGap, Mode, MonoPcm, Quality, VbrMode,
};

use super::{check_channels, id3, Partial};
use crate::render::decode::decode_file;
use crate::render::error::RenderError;
use crate::render::metadata::Metadata;

/// Encodes this many frames per call into LAME (a multiple of its 1152-frame granule pair).
const CHUNK_FRAMES: usize = 1152 * 64;
/// How many encodes [`encode_mp3_within_ceiling`] tries before giving up.
pub const MAX_ATTEMPTS: u32 = 6;
/// Extra gain reduction on a retry, beyond the measured overshoot: the codec's error changes a
/// little with the gain, so aiming exactly at the ceiling would often take one more attempt.
pub const RETRY_MARGIN_DB: f64 = 0.1;

/// What [`encode_mp3_within_ceiling`] did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mp3Outcome {
    /// Gain applied before encoding, ≤ 0 dB (0 when the first encode held the ceiling).
    pub gain_db_applied: f64,
    /// True peak of the decoded file as written, ≤ the ceiling.
    pub true_peak_dbtp: f64,
    /// Encodes made, ≥ 1.
    pub attempts: u32,
    /// True peak of the first encode's decoded audio (what the codec did to the master as
    /// given); equals `true_peak_dbtp` when `attempts` is 1.
    pub first_true_peak_dbtp: f64,
}

/// Encodes planar `channels` (mono or stereo, 32, 44.1 or 48 kHz) as a 320 kbps CBR MP3 at
/// `gain_db`, tagged with `meta`, and returns the file's bytes.
pub fn encode_mp3_bytes(
    channels: &[Vec<f32>],
    sample_rate: u32,
    gain_db: f64,
    meta: &Metadata,
) -> Result<Vec<u8>, String> {
    let frames = channels.first().map_or(0, Vec::len);
    let gain = 10f64.powf(gain_db / 20.0) as f32;
    let mut mp3 = Mp3Stream::new(channels.len(), sample_rate, frames)?;
    let planes: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    mp3.push(&planes, gain)?;
    mp3.finish(meta)
}

/// A 320 kbps CBR MP3 encoded as its audio arrives, block by block: the codec stage feeds
/// it straight from the limiter, so no limited copy of the master is held (memory, issue 8).
pub struct Mp3Stream {
    encoder: mp3lame_encoder::Encoder,
    channels: usize,
    stream: Vec<u8>,
    left: Vec<f32>,
    right: Vec<f32>,
}

impl Mp3Stream {
    /// An encoder for `channels` (1 or 2) at `sample_rate` (32, 44.1 or 48 kHz);
    /// `frames_hint` sizes the output buffer.
    pub fn new(channels: usize, sample_rate: u32, frames_hint: usize) -> Result<Self, String> {
        if !(1..=2).contains(&channels) {
            return Err(format!("{channels} channels; MP3 is mono or stereo"));
        }
        if ![32_000, 44_100, 48_000].contains(&sample_rate) {
            return Err(format!(
                "{sample_rate} Hz; MPEG-1 Layer III takes 32, 44.1 or 48 kHz (resample first)"
            ));
        }
        let mut builder = Builder::new().ok_or("LAME could not allocate an encoder")?;
        let le = |what: &str, e: mp3lame_encoder::BuildError| format!("{what}: {e}");
        builder
            .set_num_channels(channels as u8)
            .map_err(|e| le("channels", e))?;
        builder
            .set_sample_rate(sample_rate)
            .map_err(|e| le("sample rate", e))?;
        // LAME would otherwise pick its own output rate for some inputs and resample.
        builder
            .set_output_sample_rate(std::num::NonZeroU32::new(sample_rate))
            .map_err(|e| le("output sample rate", e))?;
        builder
            .set_brate(Bitrate::Kbps320)
            .map_err(|e| le("bitrate", e))?;
        builder
            .set_vbr_mode(VbrMode::Off)
            .map_err(|e| le("CBR", e))?;
        builder
            .set_mode(if channels == 1 {
                Mode::Mono
            } else {
                Mode::JointStereo
            })
            .map_err(|e| le("mode", e))?;
        // -q 3, LAME 3.100's own library default. It differs from -q 2 in one switch only:
        // -q 2 adds "substep" noise shaping, a finer search of the scale-factor steps
        // (`lame_init_qval` in libmp3lame/lame.c). At 320 kbps that search costs a third of the
        // encode (4.35 s against 2.77 s for 3.5 minutes here) and buys nothing measurable: the
        // decoded error re the signal was -33.3 dB at -q 2 and -34.1 dB at -q 3 on the
        // benchmark mix. The MP3 is the render's critical path, so the third is worth having.
        builder
            .set_quality(Quality::VeryNice)
            .map_err(|e| le("quality", e))?;
        // The Info frame carries the delay and padding a gapless decoder trims.
        builder
            .set_to_write_vbr_tag(true)
            .map_err(|e| le("Info frame", e))?;
        let encoder = builder.build().map_err(|e| le("LAME setup", e))?;
        Ok(Self {
            encoder,
            channels,
            stream: Vec::with_capacity(frames_hint / 3 + 8192),
            left: vec![0.0; CHUNK_FRAMES],
            right: vec![0.0; CHUNK_FRAMES],
        })
    }

    /// Encodes the next frames, one plane per channel (equal lengths), times `gain`.
    pub fn push(&mut self, planes: &[&[f32]], gain: f32) -> Result<(), String> {
        if planes.len() != self.channels {
            return Err(format!(
                "{} channels given to a {}-channel encoder",
                planes.len(),
                self.channels
            ));
        }
        let frames = planes[0].len();
        if planes.iter().any(|c| c.len() != frames) {
            return Err("the channels differ in length".into());
        }
        let mut start = 0;
        while start < frames {
            let end = (start + CHUNK_FRAMES).min(frames);
            let n = end - start;
            for (d, s) in self.left[..n].iter_mut().zip(&planes[0][start..end]) {
                *d = s * gain;
            }
            self.stream
                .reserve(max_required_buffer_size(n * self.channels));
            let written = if let Some(r) = planes.get(1) {
                for (d, s) in self.right[..n].iter_mut().zip(&r[start..end]) {
                    *d = s * gain;
                }
                self.encoder.encode_to_vec(
                    DualPcm {
                        left: &self.left[..n],
                        right: &self.right[..n],
                    },
                    &mut self.stream,
                )
            } else {
                self.encoder
                    .encode_to_vec(MonoPcm(&self.left[..n]), &mut self.stream)
            };
            written.map_err(|e| format!("encoding: {e}"))?;
            start = end;
        }
        Ok(())
    }

    /// Flushes the encoder and returns the whole file: ID3v2 tag from `meta`, then the
    /// stream with its final Info frame.
    pub fn finish(mut self, meta: &Metadata) -> Result<Vec<u8>, String> {
        let stream = &mut self.stream;
        let encoder = &mut self.encoder;
        stream.reserve(max_required_buffer_size(0));
        encoder
            .flush_to_vec::<FlushGap>(stream)
            .map_err(|e| format!("flushing: {e}"))?;

        // The placeholder Info frame LAME put first is replaced by the final one.
        let mut info = Vec::with_capacity(encoder.lame_tag_size());
        encoder
            .lame_tag_encode_to_vec(&mut info)
            .ok_or("LAME wrote no Info frame")?;
        if info.len() > stream.len() || stream[..2] != info[..2] {
            return Err("LAME's Info frame does not match the start of its stream".into());
        }
        stream[..info.len()].copy_from_slice(&info);
        let mut file = id3::tag(meta).unwrap_or_default();
        file.extend_from_slice(stream);
        Ok(file)
    }
}

/// Writes what `mp3` encoded to `path`, atomically, with `meta`'s tags.
pub fn write_mp3_stream(path: &Path, mp3: Mp3Stream, meta: &Metadata) -> Result<(), RenderError> {
    let bytes = mp3.finish(meta).map_err(|detail| mp3_error(path, detail))?;
    let partial = Partial::new(path);
    partial.write_all(&bytes)?;
    partial.commit()
}

/// Writes an MP3 of `channels` at `gain_db` to `path`, atomically, without checking its peak.
pub fn write_mp3(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    gain_db: f64,
    meta: &Metadata,
) -> Result<(), RenderError> {
    check_channels(path, "MP3", channels)?;
    let bytes = encode_mp3_bytes(channels, sample_rate, gain_db, meta)
        .map_err(|detail| mp3_error(path, detail))?;
    let partial = Partial::new(path);
    partial.write_all(&bytes)?;
    partial.commit()
}

/// Writes an MP3 of `channels` to `path` whose *decoded* true peak is at or below
/// `ceiling_dbtp`: encode, decode back, measure, and re-encode at a lower gain until it holds
/// (at most [`MAX_ATTEMPTS`] encodes; an error if it never does). Only the final, verified file
/// appears under `path`.
pub fn encode_mp3_within_ceiling(
    channels: &[Vec<f32>],
    sample_rate: u32,
    ceiling_dbtp: f64,
    meta: &Metadata,
    path: &Path,
) -> Result<Mp3Outcome, RenderError> {
    within_ceiling(
        channels,
        sample_rate,
        ceiling_dbtp,
        meta,
        path,
        MAX_ATTEMPTS,
    )
}

pub(crate) fn within_ceiling(
    channels: &[Vec<f32>],
    sample_rate: u32,
    ceiling_dbtp: f64,
    meta: &Metadata,
    path: &Path,
    max_attempts: u32,
) -> Result<Mp3Outcome, RenderError> {
    let frames = check_channels(path, "MP3", channels)?;
    if !ceiling_dbtp.is_finite() {
        return Err(mp3_error(path, format!("ceiling {ceiling_dbtp} dBTP")));
    }
    let partial = Partial::new(path);
    let mut gain_db = 0.0;
    let mut first_true_peak_dbtp = f64::NAN;
    let mut true_peak_dbtp = f64::NAN;
    for attempt in 1..=max_attempts.max(1) {
        let bytes = encode_mp3_bytes(channels, sample_rate, gain_db, meta)
            .map_err(|detail| mp3_error(path, detail))?;
        partial.write_all(&bytes)?;
        let decoded = decode_file(partial.path())
            .map_err(|e| mp3_error(path, format!("decoding it back: {e}")))?;
        if decoded.frames() != frames || decoded.sample_rate != sample_rate {
            return Err(mp3_error(
                path,
                format!(
                    "decodes to {} frames at {} Hz, not {frames} at {sample_rate} Hz",
                    decoded.frames(),
                    decoded.sample_rate
                ),
            ));
        }
        true_peak_dbtp = true_peak_dbtp_of(&decoded.channels, sample_rate)
            .ok_or_else(|| mp3_error(path, "cannot measure the decoded true peak".into()))?;
        if attempt == 1 {
            first_true_peak_dbtp = true_peak_dbtp;
        }
        if true_peak_dbtp <= ceiling_dbtp {
            partial.commit()?;
            return Ok(Mp3Outcome {
                gain_db_applied: gain_db,
                true_peak_dbtp,
                attempts: attempt,
                first_true_peak_dbtp,
            });
        }
        gain_db -= true_peak_dbtp - ceiling_dbtp + RETRY_MARGIN_DB;
    }
    Err(RenderError::CeilingNotMet {
        path: path.to_path_buf(),
        ceiling_dbtp,
        true_peak_dbtp,
        gain_db,
        attempts: max_attempts.max(1),
    })
}

/// The highest true peak over the channels in dBTP (ITU-R BS.1770-4 Annex 2, as ebur128
/// measures it); `None` if the meter cannot run. Silence is -inf.
pub fn true_peak_dbtp_of(channels: &[Vec<f32>], sample_rate: u32) -> Option<f64> {
    let planar: Vec<&[f32]> = channels.iter().map(|c| &c[..]).collect();
    let mut meter = EbuR128::new(planar.len() as u32, sample_rate, MeterMode::TRUE_PEAK).ok()?;
    meter.add_frames_planar_f32(&planar).ok()?;
    let peak = (0..planar.len() as u32)
        .map(|c| meter.true_peak(c).unwrap_or(f64::NAN))
        .fold(0.0f64, f64::max);
    Some(if peak > 0.0 {
        20.0 * peak.log10()
    } else {
        f64::NEG_INFINITY
    })
}

fn mp3_error(path: &Path, detail: String) -> RenderError {
    RenderError::Encode {
        path: path.to_path_buf(),
        format: "MP3",
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(frames: usize, amp: f32) -> Vec<Vec<f32>> {
        let x: Vec<f32> = (0..frames)
            .map(|n| amp * (2.0 * std::f32::consts::PI * 997.0 * n as f32 / 48_000.0).sin())
            .collect();
        vec![x.clone(), x]
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("lathe-mp3-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_ceiling_not_met_in_the_attempts_allowed_is_an_error_and_writes_nothing() {
        let dir = scratch("never");
        let path = dir.join("x.mp3");
        // A -1 dBFS sine against a -6 dBTP ceiling, one attempt: over by about 5 dB.
        let audio = sine(48_000, 0.89);
        let err = within_ceiling(&audio, 48_000, -6.0, &Metadata::default(), &path, 1).unwrap_err();
        match &err {
            RenderError::CeilingNotMet {
                true_peak_dbtp,
                attempts,
                ..
            } => {
                assert_eq!(*attempts, 1);
                assert!(*true_peak_dbtp > -6.0);
            }
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("x.mp3"), "{err}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);

        // With the attempts the public function allows, the same ceiling is met.
        let outcome =
            encode_mp3_within_ceiling(&audio, 48_000, -6.0, &Metadata::default(), &path).unwrap();
        assert!(outcome.true_peak_dbtp <= -6.0, "{outcome:?}");
        assert!(outcome.gain_db_applied < -4.5, "{outcome:?}");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_non_finite_ceiling_is_refused() {
        let dir = scratch("nan");
        let err = encode_mp3_within_ceiling(
            &sine(4_800, 0.5),
            48_000,
            f64::NAN,
            &Metadata::default(),
            &dir.join("y.mp3"),
        )
        .unwrap_err();
        assert!(err.to_string().contains("y.mp3"), "{err}");
    }
}
