//! FLAC deliverables with the pure-Rust flacenc encoder and Vorbis-comment tags.
//!
//! flacenc 0.5.1 writes STREAMINFO (with the MD5 of the audio) and the frames; it has no tag
//! support, but it accepts any metadata block as raw bytes, so the VORBIS_COMMENT block (type
//! 4) is built here. Its layout (RFC 9639 "FLAC", §8.6, which takes it from the Vorbis I
//! spec §5 without the framing bit): vendor string length (u32 LE), vendor string (UTF-8),
//! comment count (u32 LE), then per comment its length (u32 LE) and "NAME=value" in UTF-8.
//! Field names are the ones Xiph recommends ("Ogg Vorbis I format specification: comment field
//! and header specification"): TITLE, ARTIST, ALBUM, DATE; ISRC is in the same list.

use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, MetadataBlockData, Stream};
use flacenc::encode_fixed_size_frame;
use flacenc::error::{SourceError, Verify};
use flacenc::source::{Context, Fill, FrameBuf, Source};

use super::{check_channels, Partial, PcmOptions};
use crate::render::dither::{channel_seed, Quantiser};
use crate::render::error::RenderError;
use crate::render::metadata::{Field, Metadata};

/// FLAC metadata block type of VORBIS_COMMENT (RFC 9639, §8.1).
const VORBIS_COMMENT: u8 = 4;

/// Writes planar `channels` as a FLAC file of `pcm.bits` (16 or 24) bits at `sample_rate`,
/// TPDF-dithered like the WAV deliverables, tagged with `meta`. Atomic.
pub fn write_flac(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    pcm: PcmOptions,
    meta: &Metadata,
) -> Result<(), RenderError> {
    let err = |detail: String| RenderError::Encode {
        path: path.to_path_buf(),
        format: "FLAC",
        detail,
    };
    check_channels(path, "FLAC", channels)?;
    if pcm.bits != 16 && pcm.bits != 24 {
        return Err(err(format!("{} bits; 16 or 24 are supported", pcm.bits)));
    }
    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| err(format!("encoder configuration: {e}")))?;
    let block_size = config.block_size;
    let mut source = Dithered::new(channels, pcm, sample_rate);
    // The stream without its frames: "fLaC", STREAMINFO and the Vorbis comment. Written
    // first, and again over itself once the frames are out, with the MD5, the length and
    // the frame sizes filled in (STREAMINFO has a fixed size, so the rewrite fits exactly).
    let mut head = Stream::new(sample_rate as usize, channels.len(), pcm.bits as usize)
        .map_err(|e| err(format!("{e:?}")))?;
    let comments = vorbis_comment(meta);
    let block = MetadataBlockData::new_unknown(VORBIS_COMMENT, &comments)
        .map_err(|e| err(format!("Vorbis comment block: {e}")))?;
    head.add_metadata_block(block);
    let mut fill = (
        FrameBuf::with_size(channels.len(), block_size).map_err(|e| err(format!("{e:?}")))?,
        Context::new(pcm.bits as usize, channels.len()),
    );
    let encoding = |e: String| std::io::Error::other(e);
    let partial = Partial::new(path);
    partial.write_with(|out| {
        out.write_all(&head_bytes(&head).map_err(encoding)?)?;
        // Frame by frame from the dithered master: neither the samples nor the encoded
        // stream are held whole (memory, issue 8).
        loop {
            let read = source
                .read_samples(block_size, &mut fill)
                .map_err(|e| encoding(format!("{e:?}")))?;
            if read == 0 {
                break;
            }
            let number = fill.1.current_frame_number().unwrap_or(0);
            let frame = encode_fixed_size_frame(&config, &fill.0, number, head.stream_info())
                .map_err(|e| encoding(format!("{e:?}")))?;
            head.stream_info_mut().update_frame_info(&frame);
            let mut sink = ByteSink::new();
            frame
                .write(&mut sink)
                .map_err(|e| encoding(format!("{e:?}")))?;
            out.write_all(sink.as_slice())?;
        }
        let info = head.stream_info_mut();
        info.set_md5_digest(&fill.1.md5_digest());
        info.set_total_samples(fill.1.total_samples());
        // flacenc counts the short last block in STREAMINFO's minimum block size; RFC 9639
        // §8.2 excludes it ("the minimum block size ... excluding the last block"), and
        // symphonia 0.6.1 refuses a fixed-blocksize stream whose minimum differs from its
        // maximum. Every block but the last has the configured size.
        info.set_block_sizes(block_size, block_size)
            .map_err(|e| encoding(format!("STREAMINFO block sizes: {e:?}")))?;
        out.seek(SeekFrom::Start(0))?;
        out.write_all(&head_bytes(&head).map_err(encoding)?)?;
        Ok(())
    })?;
    partial.commit()
}

/// "fLaC" and the metadata blocks of `head` (a stream with no frames).
fn head_bytes(head: &Stream) -> Result<Vec<u8>, String> {
    let mut sink = ByteSink::new();
    head.write(&mut sink).map_err(|e| format!("{e:?}"))?;
    Ok(sink.as_slice().to_vec())
}

/// The master, TPDF-dithered to the FLAC's word length block by block as the encoder reads
/// it: the same samples `quantise_interleaved` makes (same quantisers, same seeds, same
/// order), without an integer copy of the whole master.
struct Dithered<'a> {
    channels: &'a [Vec<f32>],
    frames: usize,
    at: usize,
    quantisers: Vec<Quantiser>,
    bits: usize,
    sample_rate: u32,
    interleaved: Vec<i32>,
}

impl<'a> Dithered<'a> {
    fn new(channels: &'a [Vec<f32>], pcm: PcmOptions, sample_rate: u32) -> Self {
        Self {
            channels,
            frames: channels.iter().map(Vec::len).min().unwrap_or(0),
            at: 0,
            quantisers: (0..channels.len())
                .map(|c| Quantiser::new(pcm.bits as u32, pcm.shaping, channel_seed(pcm.seed, c)))
                .collect(),
            bits: pcm.bits as usize,
            sample_rate,
            interleaved: Vec::new(),
        }
    }
}

impl Source for Dithered<'_> {
    fn channels(&self) -> usize {
        self.channels.len()
    }

    fn bits_per_sample(&self) -> usize {
        self.bits
    }

    fn sample_rate(&self) -> usize {
        self.sample_rate as usize
    }

    fn read_samples<F: Fill>(
        &mut self,
        block_size: usize,
        dest: &mut F,
    ) -> Result<usize, SourceError> {
        let n = block_size.min(self.frames - self.at);
        self.interleaved.clear();
        for i in self.at..self.at + n {
            for (q, c) in self.quantisers.iter_mut().zip(self.channels) {
                self.interleaved.push(q.quantise(c[i]));
            }
        }
        self.at += n;
        if n > 0 {
            dest.fill_interleaved(&self.interleaved)?;
        }
        Ok(n)
    }

    fn len_hint(&self) -> Option<usize> {
        Some(self.frames)
    }
}

/// The content of a VORBIS_COMMENT block for `meta` (always written, if only for the vendor
/// string, so taggers find a block to edit).
pub fn vorbis_comment(meta: &Metadata) -> Vec<u8> {
    let vendor = concat!("Lathe ", env!("CARGO_PKG_VERSION"), " (flacenc 0.5.1)");
    let comments: Vec<String> = meta
        .fields()
        .into_iter()
        .map(|(field, value)| {
            let name = match field {
                Field::Title => "TITLE",
                Field::Artist => "ARTIST",
                Field::Album => "ALBUM",
                Field::Year => "DATE",
                Field::Isrc => "ISRC",
            };
            format!("{name}={value}")
        })
        .collect();
    let mut out = Vec::new();
    push_string(&mut out, vendor);
    out.extend_from_slice(&(comments.len() as u32).to_le_bytes());
    for c in &comments {
        push_string(&mut out, c);
    }
    out
}

fn push_string(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vorbis_comment_layout() {
        let meta = Metadata {
            artist: Some("Ä".into()),
            year: Some("2024".into()),
            ..Default::default()
        };
        let block = vorbis_comment(&meta);
        let u32_at = |i: usize| u32::from_le_bytes(block[i..i + 4].try_into().unwrap()) as usize;
        let vendor_len = u32_at(0);
        let mut i = 4 + vendor_len;
        assert_eq!(u32_at(i), 2);
        i += 4;
        let first = u32_at(i);
        assert_eq!(&block[i + 4..i + 4 + first], "ARTIST=Ä".as_bytes());
        i += 4 + first;
        let second = u32_at(i);
        assert_eq!(&block[i + 4..i + 4 + second], b"DATE=2024");
        assert_eq!(i + 4 + second, block.len());
    }
}
