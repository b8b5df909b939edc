//! The renderer's input decoder: turns a WAV, AIFF/AIFC, FLAC or MP3 file into planar `f32`.
//! (MP3 is here so the renderer can decode its own MP3 deliverables back and verify them.)
//!
//! Mastering has to see every sample the artist delivered, so this module is strict where a
//! media player would be lenient: a file that ends early, skips audio or fails a checksum is an
//! error, never a shorter render.
//!
//! # What symphonia 0.6 does with damaged files, and what we do about it
//!
//! * **WAV/AIFF whose data chunk claims more bytes than the file holds** (a copy cut short, a
//!   download that stopped). The RIFF readers hand out the data in packets of up to 1152 frames.
//!   The packet that reaches the end of the file comes back *short* (the whole frames that are
//!   left; a trailing partial frame is dropped by the decoder) and the next `next_packet` call
//!   returns `Err(IoError(UnexpectedEof))`. If less than one frame is missing, there is no error
//!   at all: the reader sees no whole frame left and returns `Ok(None)` as if the file were
//!   complete. Players treat both as "end of stream". We report the EOF error as truncated, and
//!   catch the quiet case by comparing the frames decoded with the count the header implies.
//! * **WAV with no stated data length** (`0xFFFFFFFF`, as ffmpeg writes to a pipe). The reader
//!   reads until the file ends, and the end looks exactly like the cut file above: a short packet,
//!   then `UnexpectedEof`. As the header promises nothing, a complete file cannot be told from a
//!   cut one, so it is refused as truncated; re-saving it with a proper header fixes that.
//! * **FLAC cut short.** The FLAC reader returns `UnexpectedEof` itself when STREAMINFO states
//!   the total frame count (we also compare the count ourselves). When STREAMINFO leaves the
//!   total unset, it ends quietly and only the MD5 check below can notice the loss.
//! * **FLAC with damaged frames.** The reader drops frames whose CRC fails and carries on. We
//!   catch the hole by checking that each packet starts where the previous one ended (a lost
//!   last frame shows up in the frame count when STREAMINFO states it), and we have the decoder verify the stream's MD5
//!   signature when the file carries one.
//! * **MP3 (gapless).** LAME's Info frame states the encoder delay and padding; symphonia's
//!   reader gives the first packets negative timestamps and marks the delay and padding as
//!   `trim_start`/`trim_end`, and its decoder drops them, so the decoded audio has the encoded
//!   length exactly. The continuity check below therefore follows the first *kept* frame of each
//!   packet (`pts + trim_start`). An MP3 without a LAME tag states no delay, and its length is
//!   only estimated from the bitrate, so for such a file the frame count is not enforced.
//! * **A file whose header is cut off** fails in the probe with `UnexpectedEof` and is reported
//!   as truncated; a file with no recognisable audio header is "unsupported format".
//!
//! Nothing here can loop forever: every packet read consumes file bytes, a regular file has an
//! end, and non-regular files (FIFOs, devices) are refused before they are opened.

use std::fs::File;
use std::io::ErrorKind;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3, CODEC_ID_OPUS, CODEC_ID_PCM_F32BE,
    CODEC_ID_PCM_F32BE_PLANAR, CODEC_ID_PCM_F32LE, CODEC_ID_PCM_F32LE_PLANAR, CODEC_ID_PCM_F64BE,
    CODEC_ID_PCM_F64BE_PLANAR, CODEC_ID_PCM_F64LE, CODEC_ID_PCM_F64LE_PLANAR, CODEC_ID_VORBIS,
};
use symphonia::core::codecs::audio::{AudioCodecId, AudioDecoderOptions};
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::well_known::{
    FORMAT_ID_ADTS, FORMAT_ID_AIFF, FORMAT_ID_FLAC, FORMAT_ID_ISOMP4, FORMAT_ID_MP3, FORMAT_ID_OGG,
    FORMAT_ID_WAVE,
};
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;

/// Lowest sample rate accepted. Below CD rate the mastering filters' corner frequencies and the
/// true-peak oversampler would be working on a band-limited signal nobody should be mastering.
const MIN_SAMPLE_RATE: u32 = 44_100;
/// Highest sample rate accepted; beyond it the look-ahead and oversampling buffers grow for no
/// audible benefit.
const MAX_SAMPLE_RATE: u32 = 192_000;

/// Decoded audio, planar f32, 1 or 2 channels, at the file's own rate.
///
/// Planar because every DSP stage in Lathe processes one channel slice at a time; the file's
/// own rate because resampling is a separate, explicit renderer step.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedAudio {
    pub sample_rate: u32,
    /// One `Vec` per channel (1 = mono, 2 = stereo), all the same length.
    pub channels: Vec<Vec<f32>>,
    pub source: SourceFormat,
}

/// What the file was, so the renderer can report it and pick a sensible output format.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceFormat {
    /// "WAV", "AIFF" (also for AIFC), "FLAC", "MP3", "MP4" (AAC in .m4a), "ADTS" (raw AAC)
    /// or "Ogg".
    pub container: &'static str,
    /// Bits per stored sample where the file states it (16, 24, 32, 64, ...).
    pub bits_per_sample: Option<u32>,
    pub is_float: bool,
    /// The lossy codec the audio went through, where it did (`None`: lossless).
    pub lossy: Option<LossyCodec>,
}

/// A lossy codec a source was coded with: mastering such a file bakes the codec's artefacts
/// (its band limit, pre-echo, the smeared transients) into the master, so the pre-flight
/// checks name it.
#[derive(Debug, Clone, PartialEq)]
pub struct LossyCodec {
    /// "MP3", "MP2", "MP1", "AAC" or "Vorbis".
    pub codec: &'static str,
    /// The file's size over its length, kbit/s: the average bitrate (tags and cover art
    /// included, so a little high where they are large).
    pub bitrate_kbps: f64,
}

/// The name of a lossy codec, or `None` for the lossless ones.
fn lossy_codec_name(codec: AudioCodecId) -> Option<&'static str> {
    match codec {
        CODEC_ID_MP3 => Some("MP3"),
        CODEC_ID_MP2 => Some("MP2"),
        CODEC_ID_MP1 => Some("MP1"),
        CODEC_ID_AAC => Some("AAC"),
        CODEC_ID_VORBIS => Some("Vorbis"),
        CODEC_ID_OPUS => Some("Opus"),
        _ => None,
    }
}

impl DecodedAudio {
    /// Frames per channel; all channels have the same length, so the first one answers.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Length in seconds; 0 for a (hand-built) value with no sample rate rather than inf/NaN.
    pub fn duration_s(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.frames() as f64 / f64::from(self.sample_rate)
    }
}

/// Why a file could not be used. Every message starts with the path, because the renderer may
/// be working through a batch and the user must know which file to fix.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("{}: not a file (it is {what})", .path.display())]
    NotAFile { path: PathBuf, what: &'static str },

    #[error("{}: the file is empty", .path.display())]
    Empty { path: PathBuf },

    #[error("{}: no audio track", .path.display())]
    NoAudioTrack { path: PathBuf },

    #[error("{}: unsupported format or codec ({detail})", .path.display())]
    Unsupported { path: PathBuf, detail: String },

    #[error("{}: {count} channels; Lathe masters mono or stereo", .path.display())]
    Channels { path: PathBuf, count: usize },

    #[error(
        "{}: sample rate {rate} Hz is outside 44.1 to 192 kHz",
        .path.display()
    )]
    SampleRate { path: PathBuf, rate: u32 },

    #[error("{}: truncated or corrupt ({detail})", .path.display())]
    Corrupt { path: PathBuf, detail: String },

    #[error("{}: no audio frames", .path.display())]
    NoFrames { path: PathBuf },

    #[error("{}: cannot read ({source})", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Decode a whole file into memory: loudness targeting has to measure the entire programme
/// before processing it, so there is nothing to gain from streaming.
///
/// The container is recognised by its content; the extension is only a hint, so a WAV saved as
/// `.aif` still decodes and a text file saved as `.wav` is refused as unsupported.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, DecodeError> {
    let mut whole = Whole::default();
    let source = decode_into(path, &mut whole)?;
    Ok(DecodedAudio {
        sample_rate: whole.sample_rate,
        channels: whole.channels,
        source,
    })
}

/// Where [`decode_into`] hands the audio, block by block, as it decodes.
pub trait DecodeSink {
    /// Called once, before any block: the file's rate, channel count, and the length its
    /// header states (bounded by the file's size; a hostile header may claim billions).
    fn start(&mut self, sample_rate: u32, channels: usize, declared_frames: Option<u64>);
    /// The next decoded frames, one plane per channel, all finite.
    fn block(&mut self, planes: &[Vec<f32>]);
}

/// The sink [`decode_file`] uses: the whole file in memory.
#[derive(Default)]
struct Whole {
    sample_rate: u32,
    channels: Vec<Vec<f32>>,
}

impl DecodeSink for Whole {
    fn start(&mut self, sample_rate: u32, channels: usize, declared_frames: Option<u64>) {
        self.sample_rate = sample_rate;
        self.channels = vec![Vec::new(); channels];
        // Reserve what the header promises, and never abort if the reservation fails: it
        // only saves re-allocations (and the doubling a growing Vec goes through).
        if let Some(frames) = declared_frames {
            let reserve = usize::try_from(frames).unwrap_or(0);
            for plane in &mut self.channels {
                let _ = plane.try_reserve_exact(reserve);
            }
        }
    }

    fn block(&mut self, planes: &[Vec<f32>]) {
        for (plane, part) in self.channels.iter_mut().zip(planes) {
            plane.extend_from_slice(part);
        }
    }
}

/// Decodes `path` into `sink`, block by block, with every check [`decode_file`] makes:
/// what is measured in blocks need not be held whole (the renderer's checks of its own
/// deliverables, memory: issue 8). Returns what the file was.
pub fn decode_into(path: &Path, sink: &mut dyn DecodeSink) -> Result<SourceFormat, DecodeError> {
    // symphonia is written not to panic on bad input, but the renderer must survive a bug in it
    // on some hostile file: a panic becomes a "corrupt" error naming the file.
    match catch_unwind(AssertUnwindSafe(|| decode_inner(path, sink))) {
        Ok(result) => result,
        Err(_) => Err(corrupt(path, "the decoder failed on this file's data")),
    }
}

fn decode_inner(path: &Path, sink: &mut dyn DecodeSink) -> Result<SourceFormat, DecodeError> {
    let meta = std::fs::metadata(path).map_err(|source| io_error(path, source))?;
    if meta.is_dir() {
        return Err(DecodeError::NotAFile {
            path: path.to_path_buf(),
            what: "a directory",
        });
    }
    if !meta.is_file() {
        // A FIFO or device could block forever or never end.
        return Err(DecodeError::NotAFile {
            path: path.to_path_buf(),
            what: "a device, pipe or socket",
        });
    }
    let file_len = meta.len();
    if file_len == 0 {
        return Err(DecodeError::Empty {
            path: path.to_path_buf(),
        });
    }

    let file = File::open(path).map_err(|source| io_error(path, source))?;
    let mss = MediaSourceStream::new(Box::new(file), MediaSourceStreamOptions::default());

    let mut hint = Hint::new();
    if let Some(ext) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(ext);
    }

    let mut format = symphonia::default::get_probe()
        .probe(
            &hint,
            mss,
            FormatOptions::default(),
            MetadataOptions::default(),
        )
        .map_err(|e| map_error(path, e, Stage::Header))?;

    let container: &'static str = match format.format_info().format {
        FORMAT_ID_WAVE => "WAV",
        FORMAT_ID_AIFF => "AIFF",
        FORMAT_ID_FLAC => "FLAC",
        FORMAT_ID_MP3 => "MP3",
        FORMAT_ID_ISOMP4 => "MP4",
        FORMAT_ID_ADTS => "ADTS",
        FORMAT_ID_OGG => "Ogg",
        _ => format.format_info().short_name,
    };

    let track = format
        .default_track(TrackType::Audio)
        .or_else(|| format.first_track(TrackType::Audio))
        .ok_or_else(|| DecodeError::NoAudioTrack {
            path: path.to_path_buf(),
        })?;
    let track_id = track.id;
    // An MP3 without a LAME tag (no delay stated) has a length estimated from its bitrate.
    let declared_frames = match container {
        "MP3" if track.delay.is_none() => None,
        _ => track.num_frames,
    };
    let params = match &track.codec_params {
        Some(CodecParameters::Audio(params)) => params.clone(),
        _ => {
            return Err(DecodeError::NoAudioTrack {
                path: path.to_path_buf(),
            })
        }
    };

    // Check the layout and rate before decoding anything, so an unusable file fails at once and
    // with the reason the user can act on.
    let channel_count = match &params.channels {
        Some(channels) => channels.count(),
        None => {
            return Err(unsupported(
                path,
                "the file does not state its channel count",
            ))
        }
    };
    if !(1..=2).contains(&channel_count) {
        return Err(DecodeError::Channels {
            path: path.to_path_buf(),
            count: channel_count,
        });
    }
    let sample_rate = match params.sample_rate {
        Some(rate) => rate,
        None => return Err(unsupported(path, "the file does not state its sample rate")),
    };
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(DecodeError::SampleRate {
            path: path.to_path_buf(),
            rate: sample_rate,
        });
    }

    let is_float = codec_is_float(params.codec);
    let bits_per_sample = params.bits_per_sample.or_else(|| float_bits(params.codec));

    // verify(true): FLAC files carry an MD5 of the audio; checking it is the only way to catch
    // damage the frame CRCs let through or frames the reader silently skipped.
    let decoder_opts = AudioDecoderOptions::default().verify(true);
    let mut decoder = symphonia::default::get_codecs()
        .make_audio_decoder(&params, &decoder_opts)
        .map_err(|e| map_error(path, e, Stage::Header))?;

    // Never more than the file could plausibly hold: a frame takes at least a byte.
    sink.start(
        sample_rate,
        channel_count,
        declared_frames.map(|f| f.min(file_len)),
    );

    let mut scratch: Vec<Vec<f32>> = Vec::with_capacity(channel_count);
    let mut decoded: u64 = 0;
    let mut first_pts: Option<i64> = None;

    loop {
        let packet = match format.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => {
                return Err(map_error(
                    path,
                    e,
                    Stage::Data {
                        decoded,
                        declared: declared_frames,
                    },
                ));
            }
        };
        if packet.track_id != track_id {
            continue;
        }

        let buf = decoder.decode(&packet).map_err(|e| {
            map_error(
                path,
                e,
                Stage::Data {
                    decoded,
                    declared: declared_frames,
                },
            )
        })?;
        if buf.frames() == 0 {
            // Wholly trimmed (an MP3's encoder delay can span a packet): decoded for the
            // decoder's state, nothing kept.
            continue;
        }

        // Each packet must start exactly where the previous one ended; anything else means the
        // reader skipped (or repeated) audio, e.g. a FLAC frame dropped for a bad CRC. What
        // counts is the first frame the decoder keeps: an MP3's encoder delay is trimmed.
        let pts = packet
            .pts
            .get()
            .saturating_add(i64::try_from(packet.trim_start.get()).unwrap_or(i64::MAX));
        let start = *first_pts.get_or_insert(pts);
        let expected = i64::try_from(decoded)
            .ok()
            .and_then(|d| start.checked_add(d));
        if expected != Some(pts) {
            return Err(corrupt(
                path,
                format!(
                    "audio is missing or out of order: a packet starts at frame {} after {} \
                     frames were decoded",
                    pts.saturating_sub(start),
                    decoded
                ),
            ));
        }

        if buf.num_planes() != channel_count {
            return Err(corrupt(
                path,
                format!(
                    "a packet decoded to {} channels, the header says {}",
                    buf.num_planes(),
                    channel_count
                ),
            ));
        }
        if buf.spec().rate() != sample_rate {
            return Err(corrupt(
                path,
                format!(
                    "a packet decoded at {} Hz, the header says {} Hz",
                    buf.spec().rate(),
                    sample_rate
                ),
            ));
        }

        // Symphonia's own integer-to-float conversion, so an N-bit sample s becomes s / 2^(N-1).
        buf.copy_to_vecs_planar::<f32>(&mut scratch);
        // A float file can hold NaN or infinity; either would poison every filter state and
        // the loudness measurement downstream, so it is damage, not audio.
        if is_float {
            for (index, plane) in scratch.iter().enumerate() {
                if let Some(frame) = plane.iter().position(|s| !s.is_finite()) {
                    return Err(corrupt(
                        path,
                        format!(
                            "channel {} has a NaN or infinite sample at frame {}",
                            index + 1,
                            decoded + frame as u64
                        ),
                    ));
                }
            }
        }
        sink.block(&scratch);
        decoded += buf.frames() as u64;
    }

    if decoder.finalize().verify_ok == Some(false) {
        return Err(corrupt(
            path,
            "the decoded audio does not match the file's MD5 signature",
        ));
    }

    if let Some(declared) = declared_frames {
        if decoded < declared {
            return Err(corrupt(
                path,
                format!("the file ends after {decoded} of {declared} frames"),
            ));
        }
    }

    if decoded == 0 {
        return Err(DecodeError::NoFrames {
            path: path.to_path_buf(),
        });
    }

    let lossy = lossy_codec_name(params.codec).map(|codec| LossyCodec {
        codec,
        bitrate_kbps: file_len as f64 * 8.0 / (decoded as f64 / f64::from(sample_rate)) / 1000.0,
    });
    Ok(SourceFormat {
        container,
        bits_per_sample,
        is_float,
        lossy,
    })
}

/// Where a symphonia error happened decides how an unexpected end of file is explained.
#[derive(Clone, Copy)]
enum Stage {
    /// Probing the container or setting up the decoder.
    Header,
    /// Reading or decoding packets, with the progress so far.
    Data { decoded: u64, declared: Option<u64> },
}

fn map_error(path: &Path, err: SymphoniaError, stage: Stage) -> DecodeError {
    match err {
        SymphoniaError::IoError(e) if e.kind() == ErrorKind::UnexpectedEof => {
            let detail = match stage {
                Stage::Header => "the file ends inside its header".to_string(),
                Stage::Data {
                    decoded,
                    declared: Some(declared),
                } => {
                    format!("the file ends after {decoded} of {declared} frames")
                }
                Stage::Data {
                    decoded,
                    declared: None,
                } => format!(
                    "the file ended after {decoded} frames, but its header does not state the \
                     audio length, so a complete file cannot be told from a cut one; re-save it \
                     with a complete header"
                ),
            };
            corrupt(path, detail)
        }
        SymphoniaError::IoError(e) => io_error(path, e),
        SymphoniaError::Unsupported(what) => unsupported(path, what),
        SymphoniaError::DecodeError(what) => match stage {
            Stage::Header => corrupt(path, what),
            Stage::Data { decoded, .. } => corrupt(path, format!("{what}, at frame {decoded}")),
        },
        SymphoniaError::LimitError(what) => corrupt(path, format!("limit reached: {what}")),
        SymphoniaError::ResetRequired => {
            unsupported(path, "the stream changes its format part-way through")
        }
        other => corrupt(path, other.to_string()),
    }
}

fn codec_is_float(codec: AudioCodecId) -> bool {
    float_bits(codec).is_some()
}

fn float_bits(codec: AudioCodecId) -> Option<u32> {
    match codec {
        CODEC_ID_PCM_F32LE
        | CODEC_ID_PCM_F32BE
        | CODEC_ID_PCM_F32LE_PLANAR
        | CODEC_ID_PCM_F32BE_PLANAR => Some(32),
        CODEC_ID_PCM_F64LE
        | CODEC_ID_PCM_F64BE
        | CODEC_ID_PCM_F64LE_PLANAR
        | CODEC_ID_PCM_F64BE_PLANAR => Some(64),
        _ => None,
    }
}

fn corrupt(path: &Path, detail: impl Into<String>) -> DecodeError {
    DecodeError::Corrupt {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn unsupported(path: &Path, detail: impl Into<String>) -> DecodeError {
    DecodeError::Unsupported {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

fn io_error(path: &Path, source: std::io::Error) -> DecodeError {
    DecodeError::Io {
        path: path.to_path_buf(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use symphonia::core::checksum::Md5;
    use symphonia::core::io::Monitor;

    // ---------------------------------------------------------------- scaffolding

    /// A scratch directory under the system temp dir, removed when the test ends.
    struct TestDir(PathBuf);

    impl TestDir {
        fn new(name: &str) -> Self {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!(
                "lathe-decode-test-{}-{}-{}",
                std::process::id(),
                name,
                n
            ));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).expect("create test dir");
            TestDir(dir)
        }

        fn path(&self, file: &str) -> PathBuf {
            self.0.join(file)
        }

        fn write(&self, file: &str, bytes: &[u8]) -> PathBuf {
            let path = self.path(file);
            std::fs::write(&path, bytes).expect("write test file");
            path
        }
    }

    impl Drop for TestDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Deterministic test signal in [-1, 1] including both extremes and zero.
    fn signal(frames: usize, channel: usize) -> Vec<f64> {
        let mut state = 0x2545_f491_u32.wrapping_add(channel as u32 * 7919);
        (0..frames)
            .map(|i| match i {
                0 => -1.0,
                1 => 1.0,
                2 => 0.0,
                _ => {
                    state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                    (f64::from(state >> 8) / f64::from(1u32 << 23)) - 1.0
                }
            })
            .collect()
    }

    /// Integer test samples of `bits` width, per channel, including the extremes.
    fn int_samples(frames: usize, channels: usize, bits: u32) -> Vec<Vec<i32>> {
        let max = (1i64 << (bits - 1)) - 1;
        let min = -(1i64 << (bits - 1));
        (0..channels)
            .map(|c| {
                signal(frames, c)
                    .into_iter()
                    .map(|x| ((x * (max as f64 + 1.0)).round() as i64).clamp(min, max) as i32)
                    .collect()
            })
            .collect()
    }

    fn float_samples(frames: usize, channels: usize) -> Vec<Vec<f32>> {
        (0..channels)
            .map(|c| {
                signal(frames, c)
                    .into_iter()
                    .map(|x| (x * 0.999) as f32)
                    .collect()
            })
            .collect()
    }

    fn expect_int(planes: &[Vec<i32>], bits: u32) -> Vec<Vec<f32>> {
        let scale = (1u64 << (bits - 1)) as f64;
        planes
            .iter()
            .map(|p| p.iter().map(|&s| (f64::from(s) / scale) as f32).collect())
            .collect()
    }

    fn write_hound_int(path: &Path, rate: u32, bits: u16, planes: &[Vec<i32>]) {
        let spec = hound::WavSpec {
            channels: planes.len() as u16,
            sample_rate: rate,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for i in 0..planes[0].len() {
            for p in planes {
                if bits == 16 {
                    w.write_sample(p[i] as i16).expect("write sample");
                } else {
                    w.write_sample(p[i]).expect("write sample");
                }
            }
        }
        w.finalize().expect("finalize wav");
    }

    fn write_hound_float(path: &Path, rate: u32, planes: &[Vec<f32>]) {
        let spec = hound::WavSpec {
            channels: planes.len() as u16,
            sample_rate: rate,
            bits_per_sample: 32,
            sample_format: hound::SampleFormat::Float,
        };
        let mut w = hound::WavWriter::create(path, spec).expect("create wav");
        for i in 0..planes[0].len() {
            for p in planes {
                w.write_sample(p[i]).expect("write sample");
            }
        }
        w.finalize().expect("finalize wav");
    }

    /// A WAV with a plain (non-extensible) fmt chunk, for formats hound does not write.
    fn wav_bytes(format_tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut out = Vec::new();
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(4 + 24 + 8 + data.len() as u32).to_le_bytes());
        out.extend_from_slice(b"WAVE");
        out.extend_from_slice(b"fmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&format_tag.to_le_bytes());
        out.extend_from_slice(&channels.to_le_bytes());
        out.extend_from_slice(&rate.to_le_bytes());
        out.extend_from_slice(&(rate * u32::from(block_align)).to_le_bytes());
        out.extend_from_slice(&block_align.to_le_bytes());
        out.extend_from_slice(&bits.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(data);
        out
    }

    /// IEEE 754 80-bit extended encoding of an integer sample rate, as AIFF's COMM chunk wants.
    fn ext80(rate: u32) -> [u8; 10] {
        let e = 31 - rate.leading_zeros();
        let exponent = (16383 + e) as u16;
        let mantissa = u64::from(rate) << (63 - e);
        let mut out = [0u8; 10];
        out[..2].copy_from_slice(&exponent.to_be_bytes());
        out[2..].copy_from_slice(&mantissa.to_be_bytes());
        out
    }

    /// An AIFF (compression `None`) or AIFC (compression `Some(fourcc)`) file.
    fn aiff_bytes(
        compression: Option<&[u8; 4]>,
        channels: u16,
        rate: u32,
        bits: u16,
        frames: u32,
        data: &[u8],
    ) -> Vec<u8> {
        let mut comm = Vec::new();
        comm.extend_from_slice(&channels.to_be_bytes());
        comm.extend_from_slice(&frames.to_be_bytes());
        comm.extend_from_slice(&bits.to_be_bytes());
        comm.extend_from_slice(&ext80(rate));
        if let Some(cc) = compression {
            comm.extend_from_slice(cc);
            comm.extend_from_slice(&[0, 0]); // empty pascal string, padded to even length
        }

        let mut body = Vec::new();
        body.extend_from_slice(if compression.is_some() {
            b"AIFC"
        } else {
            b"AIFF"
        });
        if compression.is_some() {
            body.extend_from_slice(b"FVER");
            body.extend_from_slice(&4u32.to_be_bytes());
            body.extend_from_slice(&0xA280_5140u32.to_be_bytes());
        }
        body.extend_from_slice(b"COMM");
        body.extend_from_slice(&(comm.len() as u32).to_be_bytes());
        body.extend_from_slice(&comm);
        body.extend_from_slice(b"SSND");
        body.extend_from_slice(&(8 + data.len() as u32).to_be_bytes());
        body.extend_from_slice(&0u32.to_be_bytes()); // offset
        body.extend_from_slice(&0u32.to_be_bytes()); // block size
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }

        let mut out = Vec::new();
        out.extend_from_slice(b"FORM");
        out.extend_from_slice(&(body.len() as u32).to_be_bytes());
        out.extend_from_slice(&body);
        out
    }

    fn crc8(bytes: &[u8]) -> u8 {
        let mut crc = 0u8;
        for &b in bytes {
            crc ^= b;
            for _ in 0..8 {
                crc = if crc & 0x80 != 0 {
                    (crc << 1) ^ 0x07
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    fn crc16(bytes: &[u8]) -> u16 {
        let mut crc = 0u16;
        for &b in bytes {
            crc ^= u16::from(b) << 8;
            for _ in 0..8 {
                crc = if crc & 0x8000 != 0 {
                    (crc << 1) ^ 0x8005
                } else {
                    crc << 1
                };
            }
        }
        crc
    }

    fn push_sample(out: &mut Vec<u8>, s: i32, bits: u32) {
        let bytes = s.to_be_bytes();
        out.extend_from_slice(&bytes[4 - (bits / 8) as usize..]);
    }

    /// A FLAC stream of VERBATIM subframes (no compression), 16 or 24 bits, mono or stereo.
    /// `md5`: `None` writes the true MD5 of the audio, `Some(x)` writes `x` instead.
    fn flac_bytes(
        rate: u32,
        bits: u32,
        planes: &[Vec<i32>],
        block: usize,
        md5: Option<[u8; 16]>,
    ) -> Vec<u8> {
        let channels = planes.len();
        let frames = planes[0].len();

        let true_md5 = {
            let mut m = Md5::default();
            let mut bytes = Vec::new();
            for i in 0..frames {
                for p in planes {
                    bytes.extend_from_slice(&p[i].to_le_bytes()[..(bits / 8) as usize]);
                }
            }
            m.process_buf_bytes(&bytes);
            m.md5()
        };

        let mut out = Vec::new();
        out.extend_from_slice(b"fLaC");
        out.push(0x80); // last metadata block, type STREAMINFO
        out.extend_from_slice(&[0, 0, 34]);
        out.extend_from_slice(&(block as u16).to_be_bytes());
        out.extend_from_slice(&(block as u16).to_be_bytes());
        out.extend_from_slice(&[0; 6]); // min/max frame size unknown
        let packed = (u64::from(rate) << 44)
            | ((channels as u64 - 1) << 41)
            | ((u64::from(bits) - 1) << 36)
            | frames as u64;
        out.extend_from_slice(&packed.to_be_bytes());
        out.extend_from_slice(&md5.unwrap_or(true_md5));

        for (index, start) in (0..frames).step_by(block).enumerate() {
            assert!(
                index < 128,
                "test FLAC writer only encodes 1-byte frame numbers"
            );
            let len = block.min(frames - start);
            let mut frame = vec![0xFF, 0xF8];
            frame.push(0x70); // block size: 16-bit (len - 1) follows; rate: from STREAMINFO
            let bps_code: u8 = if bits == 16 { 0x4 } else { 0x6 };
            frame.push(((channels as u8 - 1) << 4) | (bps_code << 1));
            frame.push(index as u8);
            frame.extend_from_slice(&((len - 1) as u16).to_be_bytes());
            frame.push(crc8(&frame));
            for p in planes {
                frame.push(0x02); // VERBATIM subframe, no wasted bits
                for &s in &p[start..start + len] {
                    push_sample(&mut frame, s, bits);
                }
            }
            let crc = crc16(&frame);
            frame.extend_from_slice(&crc.to_be_bytes());
            out.extend_from_slice(&frame);
        }
        out
    }

    fn decode_ok(path: &Path) -> DecodedAudio {
        match decode_file(path) {
            Ok(audio) => audio,
            Err(e) => panic!("expected {} to decode, got: {e}", path.display()),
        }
    }

    fn decode_err(path: &Path) -> (DecodeError, String) {
        match decode_file(path) {
            Ok(audio) => panic!(
                "expected {} to fail, decoded {} frames",
                path.display(),
                audio.frames()
            ),
            Err(e) => {
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&path.display().to_string()),
                    "message does not start with the path: {msg}"
                );
                (e, msg)
            }
        }
    }

    fn assert_planes_eq(got: &[Vec<f32>], want: &[Vec<f32>]) {
        assert_eq!(got.len(), want.len(), "channel count");
        for (c, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(g.len(), w.len(), "length of channel {c}");
            for (i, (a, b)) in g.iter().zip(w).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits(),
                    "channel {c} frame {i}: got {a}, want {b}"
                );
            }
        }
    }

    // ---------------------------------------------------------------- WAV round trips

    #[test]
    fn wav_16_bit_mono_and_stereo_round_trip_exactly() {
        let dir = TestDir::new("wav16");
        for channels in [1, 2] {
            let planes = int_samples(3000, channels, 16);
            let path = dir.path(&format!("s16-{channels}.wav"));
            write_hound_int(&path, 44_100, 16, &planes);
            let audio = decode_ok(&path);
            assert_eq!(audio.sample_rate, 44_100);
            assert_eq!(audio.frames(), 3000);
            assert_eq!(
                audio.source,
                SourceFormat {
                    container: "WAV",
                    bits_per_sample: Some(16),
                    is_float: false,
                    lossy: None,
                }
            );
            assert_planes_eq(&audio.channels, &expect_int(&planes, 16));
            assert_eq!(audio.channels[0][0], -1.0);
            assert_eq!(audio.channels[0][1], 32767.0 / 32768.0);
        }
    }

    #[test]
    fn wav_24_bit_extensible_mono_and_stereo_round_trip_exactly() {
        let dir = TestDir::new("wav24");
        for channels in [1, 2] {
            let planes = int_samples(2500, channels, 24);
            let path = dir.path(&format!("s24-{channels}.wav"));
            write_hound_int(&path, 96_000, 24, &planes);
            let audio = decode_ok(&path);
            assert_eq!(audio.sample_rate, 96_000);
            assert_eq!(audio.source.bits_per_sample, Some(24));
            assert!(!audio.source.is_float);
            // s / 2^23, bit for bit.
            assert_planes_eq(&audio.channels, &expect_int(&planes, 24));
        }
    }

    #[test]
    fn wav_32_bit_int_round_trips_as_symphonia_converts() {
        let dir = TestDir::new("wav32i");
        let planes = int_samples(1500, 2, 32);
        let path = dir.path("s32.wav");
        write_hound_int(&path, 48_000, 32, &planes);
        let audio = decode_ok(&path);
        assert_eq!(audio.source.bits_per_sample, Some(32));
        assert_planes_eq(&audio.channels, &expect_int(&planes, 32));
    }

    #[test]
    fn wav_32_bit_float_mono_and_stereo_round_trip_exactly() {
        let dir = TestDir::new("wavf32");
        for channels in [1, 2] {
            let planes = float_samples(2000, channels);
            let path = dir.path(&format!("f32-{channels}.wav"));
            write_hound_float(&path, 192_000, &planes);
            let audio = decode_ok(&path);
            assert_eq!(audio.sample_rate, 192_000);
            assert_eq!(
                audio.source,
                SourceFormat {
                    container: "WAV",
                    bits_per_sample: Some(32),
                    is_float: true,
                    lossy: None,
                }
            );
            assert_planes_eq(&audio.channels, &planes);
        }
    }

    #[test]
    fn wav_plain_ieee_float_32_and_64_bit_decode() {
        let dir = TestDir::new("wavieee");
        let planes = float_samples(1200, 2);

        let mut data32 = Vec::new();
        let mut data64 = Vec::new();
        for i in 0..1200 {
            for p in &planes {
                data32.extend_from_slice(&p[i].to_le_bytes());
                data64.extend_from_slice(&f64::from(p[i]).to_le_bytes());
            }
        }
        let a32 = decode_ok(&dir.write("f32.wav", &wav_bytes(3, 2, 48_000, 32, &data32)));
        assert_eq!(a32.source.bits_per_sample, Some(32));
        assert!(a32.source.is_float);
        assert_planes_eq(&a32.channels, &planes);

        let a64 = decode_ok(&dir.write("f64.wav", &wav_bytes(3, 2, 48_000, 64, &data64)));
        assert_eq!(
            a64.source,
            SourceFormat {
                container: "WAV",
                bits_per_sample: Some(64),
                is_float: true,
                lossy: None,
            }
        );
        assert_planes_eq(&a64.channels, &planes);
    }

    #[test]
    fn frames_and_duration() {
        let dir = TestDir::new("dur");
        let path = dir.path("one-second.wav");
        write_hound_int(&path, 48_000, 16, &int_samples(48_000, 2, 16));
        let audio = decode_ok(&path);
        assert_eq!(audio.frames(), 48_000);
        assert!((audio.duration_s() - 1.0).abs() < 1e-12);
        assert!(audio.channels.iter().all(|c| c.len() == 48_000));
    }

    // ---------------------------------------------------------------- refusals

    #[test]
    fn three_channels_are_refused_naming_the_count() {
        let dir = TestDir::new("3ch");
        let path = dir.path("three.wav");
        write_hound_int(&path, 48_000, 16, &int_samples(100, 3, 16));
        let (err, msg) = decode_err(&path);
        assert!(
            matches!(err, DecodeError::Channels { count: 3, .. }),
            "{msg}"
        );
        assert!(msg.contains("3 channels"), "{msg}");
    }

    #[test]
    fn sample_rates_outside_44k1_to_192k_are_refused_naming_the_rate() {
        let dir = TestDir::new("rate");
        for rate in [22_050, 32_000, 44_099, 192_001, 384_000] {
            let path = dir.path(&format!("{rate}.wav"));
            write_hound_int(&path, rate, 16, &int_samples(100, 2, 16));
            let (err, msg) = decode_err(&path);
            assert!(
                matches!(err, DecodeError::SampleRate { rate: r, .. } if r == rate),
                "{msg}"
            );
            assert!(msg.contains(&format!("{rate} Hz")), "{msg}");
        }
        for rate in [44_100, 88_200, 176_400, 192_000] {
            let path = dir.path(&format!("ok-{rate}.wav"));
            write_hound_int(&path, rate, 16, &int_samples(100, 1, 16));
            assert_eq!(decode_ok(&path).sample_rate, rate);
        }
    }

    #[test]
    fn empty_file_is_refused() {
        let dir = TestDir::new("empty");
        let path = dir.write("empty.wav", b"");
        let (err, msg) = decode_err(&path);
        assert!(matches!(err, DecodeError::Empty { .. }), "{msg}");
        assert!(msg.ends_with("the file is empty"), "{msg}");
    }

    #[test]
    fn directory_is_refused() {
        let dir = TestDir::new("dir");
        let path = dir.path("folder.wav");
        std::fs::create_dir(&path).expect("mkdir");
        let (err, msg) = decode_err(&path);
        assert!(matches!(err, DecodeError::NotAFile { .. }), "{msg}");
        assert!(msg.ends_with("not a file (it is a directory)"), "{msg}");
    }

    #[test]
    fn missing_file_cannot_be_read() {
        let dir = TestDir::new("missing");
        let (err, msg) = decode_err(&dir.path("nope.wav"));
        assert!(matches!(err, DecodeError::Io { .. }), "{msg}");
        assert!(msg.contains("cannot read"), "{msg}");
    }

    #[test]
    fn text_file_named_wav_is_unsupported() {
        let dir = TestDir::new("text");
        let text = "Meeting notes: the final mix is due on Friday, 24-bit WAV please.\n".repeat(50);
        for name in ["notes.wav", "notes.flac", "notes.aiff", "notes"] {
            let path = dir.write(name, text.as_bytes());
            let (err, msg) = decode_err(&path);
            assert!(matches!(err, DecodeError::Unsupported { .. }), "{msg}");
            assert!(msg.contains("unsupported format or codec"), "{msg}");
        }
        // A few bytes only.
        let (err, msg) = decode_err(&dir.write("tiny.wav", b"hi"));
        assert!(matches!(err, DecodeError::Unsupported { .. }), "{msg}");
    }

    #[test]
    fn wav_cut_in_half_is_truncated() {
        let dir = TestDir::new("cut");
        let full = dir.path("full.wav");
        write_hound_int(&full, 44_100, 16, &int_samples(4410, 2, 16));
        let bytes = std::fs::read(&full).expect("read");
        let path = dir.write("half.wav", &bytes[..bytes.len() / 2]);
        let (err, msg) = decode_err(&path);
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        assert!(msg.contains("of 4410 frames"), "{msg}");
    }

    #[test]
    fn wav_missing_less_than_one_frame_is_truncated() {
        // symphonia ends this one quietly (no whole frame left to read); the frame count the
        // header implies is what catches it.
        let dir = TestDir::new("cut1");
        let full = dir.path("full.wav");
        write_hound_int(&full, 44_100, 16, &int_samples(4410, 2, 16));
        let bytes = std::fs::read(&full).expect("read");
        let (err, msg) = decode_err(&dir.write("short.wav", &bytes[..bytes.len() - 1]));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
        assert!(msg.contains("4409 of 4410 frames"), "{msg}");
    }

    #[test]
    fn wav_cut_inside_the_header_is_truncated() {
        let dir = TestDir::new("cuthdr");
        let full = dir.path("full.wav");
        write_hound_int(&full, 44_100, 24, &int_samples(100, 2, 24));
        let bytes = std::fs::read(&full).expect("read");
        let (err, msg) = decode_err(&dir.write("hdr.wav", &bytes[..30]));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("header"), "{msg}");
    }

    #[test]
    fn wav_without_stated_length_is_refused_not_shortened() {
        // ffmpeg writing to a pipe leaves both lengths at 0xFFFFFFFF.
        let dir = TestDir::new("stream");
        let mut data = Vec::new();
        for s in &int_samples(2000, 2, 16)[0] {
            data.extend_from_slice(&(*s as i16).to_le_bytes());
            data.extend_from_slice(&(*s as i16).to_le_bytes());
        }
        let mut bytes = wav_bytes(1, 2, 48_000, 16, &data);
        bytes[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
        bytes[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        let (err, msg) = decode_err(&dir.write("streamed.wav", &bytes));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("does not state the audio length"), "{msg}");
    }

    #[test]
    fn wav_with_no_frames_is_refused() {
        let dir = TestDir::new("noframes");
        let (err, msg) = decode_err(&dir.write("silence.wav", &wav_bytes(1, 2, 48_000, 16, &[])));
        assert!(matches!(err, DecodeError::NoFrames { .. }), "{msg}");
        assert!(msg.ends_with("no audio frames"), "{msg}");
    }

    #[test]
    fn float_wav_with_nan_is_refused() {
        let dir = TestDir::new("nan");
        let mut data = Vec::new();
        for i in 0..100 {
            let s = if i == 42 { f32::NAN } else { 0.25 };
            data.extend_from_slice(&s.to_le_bytes());
        }
        let (err, msg) = decode_err(&dir.write("nan.wav", &wav_bytes(3, 1, 48_000, 32, &data)));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("frame 42"), "{msg}");
    }

    #[test]
    fn content_decides_not_the_extension() {
        let dir = TestDir::new("ext");
        let planes = int_samples(500, 2, 16);
        let wav = dir.path("real.wav");
        write_hound_int(&wav, 48_000, 16, &planes);
        let bytes = std::fs::read(&wav).expect("read");
        for name in [
            "mislabelled.flac",
            "mislabelled.aiff",
            "mislabelled.txt",
            "no-extension",
        ] {
            let audio = decode_ok(&dir.write(name, &bytes));
            assert_eq!(audio.source.container, "WAV");
            assert_planes_eq(&audio.channels, &expect_int(&planes, 16));
        }
    }

    // ---------------------------------------------------------------- AIFF / AIFC

    #[test]
    fn aiff_16_bit_stereo_and_24_bit_mono_round_trip_exactly() {
        let dir = TestDir::new("aiff");

        let p16 = int_samples(2000, 2, 16);
        let mut data = Vec::new();
        for i in 0..2000 {
            for p in &p16 {
                push_sample(&mut data, p[i], 16);
            }
        }
        let a = decode_ok(&dir.write("s16.aiff", &aiff_bytes(None, 2, 44_100, 16, 2000, &data)));
        assert_eq!(a.sample_rate, 44_100);
        assert_eq!(
            a.source,
            SourceFormat {
                container: "AIFF",
                bits_per_sample: Some(16),
                is_float: false,
                lossy: None,
            }
        );
        assert_planes_eq(&a.channels, &expect_int(&p16, 16));

        let p24 = int_samples(1501, 1, 24); // odd byte count exercises chunk padding
        let mut data = Vec::new();
        for &s in &p24[0] {
            push_sample(&mut data, s, 24);
        }
        let a = decode_ok(&dir.write("s24.aif", &aiff_bytes(None, 1, 96_000, 24, 1501, &data)));
        assert_eq!(a.source.bits_per_sample, Some(24));
        assert_planes_eq(&a.channels, &expect_int(&p24, 24));
    }

    #[test]
    fn aifc_sowt_and_fl32_decode() {
        let dir = TestDir::new("aifc");

        let p16 = int_samples(1000, 2, 16);
        let mut data = Vec::new();
        for i in 0..1000 {
            for p in &p16 {
                data.extend_from_slice(&(p[i] as i16).to_le_bytes());
            }
        }
        let a = decode_ok(&dir.write(
            "sowt.aifc",
            &aiff_bytes(Some(b"sowt"), 2, 48_000, 16, 1000, &data),
        ));
        assert_eq!(a.source.container, "AIFF");
        assert_planes_eq(&a.channels, &expect_int(&p16, 16));

        let pf = float_samples(1000, 1);
        let mut data = Vec::new();
        for s in &pf[0] {
            data.extend_from_slice(&s.to_be_bytes());
        }
        let a = decode_ok(&dir.write(
            "fl32.aifc",
            &aiff_bytes(Some(b"fl32"), 1, 48_000, 32, 1000, &data),
        ));
        assert!(a.source.is_float);
        assert_eq!(a.source.bits_per_sample, Some(32));
        assert_planes_eq(&a.channels, &pf);
    }

    #[test]
    fn aiff_cut_in_half_is_truncated() {
        let dir = TestDir::new("aiffcut");
        let p = int_samples(3000, 2, 16);
        let mut data = Vec::new();
        for i in 0..3000 {
            for c in &p {
                push_sample(&mut data, c[i], 16);
            }
        }
        let bytes = aiff_bytes(None, 2, 44_100, 16, 3000, &data);
        let (err, msg) = decode_err(&dir.write("half.aiff", &bytes[..bytes.len() / 2]));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("truncated"), "{msg}");
    }

    // ---------------------------------------------------------------- FLAC

    #[test]
    fn flac_16_bit_stereo_and_24_bit_mono_round_trip_exactly() {
        let dir = TestDir::new("flac");

        let p16 = int_samples(3000, 2, 16);
        let a = decode_ok(&dir.write("s16.flac", &flac_bytes(44_100, 16, &p16, 1024, None)));
        assert_eq!(a.sample_rate, 44_100);
        assert_eq!(
            a.source,
            SourceFormat {
                container: "FLAC",
                bits_per_sample: Some(16),
                is_float: false,
                lossy: None,
            }
        );
        assert_planes_eq(&a.channels, &expect_int(&p16, 16));

        let p24 = int_samples(2000, 1, 24);
        let a = decode_ok(&dir.write("s24.wav", &flac_bytes(96_000, 24, &p24, 512, None)));
        assert_eq!(a.source.container, "FLAC");
        assert_eq!(a.source.bits_per_sample, Some(24));
        assert_planes_eq(&a.channels, &expect_int(&p24, 24));
    }

    #[test]
    fn flac_cut_in_half_is_truncated() {
        let dir = TestDir::new("flaccut");
        let bytes = flac_bytes(48_000, 16, &int_samples(4000, 2, 16), 1024, None);
        let (err, msg) = decode_err(&dir.write("half.flac", &bytes[..bytes.len() / 2]));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("of 4000 frames"), "{msg}");
    }

    #[test]
    fn flac_with_wrong_md5_is_corrupt() {
        let dir = TestDir::new("flacmd5");
        let bytes = flac_bytes(
            48_000,
            16,
            &int_samples(2000, 2, 16),
            1024,
            Some([0x11; 16]),
        );
        let (err, msg) = decode_err(&dir.write("md5.flac", &bytes));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
        assert!(msg.contains("MD5"), "{msg}");
    }

    #[test]
    fn flac_with_a_damaged_frame_is_corrupt() {
        let dir = TestDir::new("flacdmg");
        let mut bytes = flac_bytes(48_000, 16, &int_samples(4096, 2, 16), 1024, None);
        // Flip bits in the middle of the second frame's samples, leaving its CRC stale.
        let header = 4 + 4 + 34;
        let frame_len = 7 + 2 * (1 + 1024 * 2) + 2;
        let at = header + frame_len + frame_len / 2;
        bytes[at] ^= 0x5a;
        let (err, msg) = decode_err(&dir.write("damaged.flac", &bytes));
        assert!(matches!(err, DecodeError::Corrupt { .. }), "{msg}");
    }

    // ---------------------------------------------------------------- robustness

    /// Every proper prefix of a valid file must be refused (never decoded short), and nothing
    /// may panic or hang.
    #[test]
    fn every_truncation_is_refused_without_panicking() {
        let dir = TestDir::new("prefixes");

        let wav = dir.path("w.wav");
        write_hound_int(&wav, 48_000, 24, &int_samples(300, 2, 24));
        let wav = std::fs::read(&wav).expect("read");

        let mut data = Vec::new();
        for s in &int_samples(300, 1, 16)[0] {
            push_sample(&mut data, *s, 16);
        }
        let aiff = aiff_bytes(None, 1, 44_100, 16, 300, &data);
        let flac = flac_bytes(44_100, 16, &int_samples(300, 2, 16), 64, None);

        for (name, bytes) in [("w.wav", &wav), ("a.aiff", &aiff), ("f.flac", &flac)] {
            let path = dir.path(name);
            for cut in 0..bytes.len() {
                std::fs::write(&path, &bytes[..cut]).expect("write");
                match decode_file(&path) {
                    Ok(audio) => panic!(
                        "{name} cut to {cut} bytes decoded {} frames",
                        audio.frames()
                    ),
                    Err(e) => {
                        let msg = e.to_string();
                        assert!(!msg.contains("decoder failed"), "{name} cut {cut}: {msg}");
                        assert!(msg.starts_with(&path.display().to_string()));
                    }
                }
            }
            std::fs::write(&path, bytes).expect("write");
            assert_eq!(decode_ok(&path).frames(), 300, "{name} in full");
        }
    }
}
