//! FLAC deliverables with the pure-Rust flacenc encoder and Vorbis-comment tags.
//!
//! flacenc 0.5.1 writes STREAMINFO (with the MD5 of the audio) and the frames; it has no tag
//! support, but it accepts any metadata block as raw bytes, so the VORBIS_COMMENT block (type
//! 4) is built here. Its layout (RFC 9639 "FLAC", §8.6, which takes it from the Vorbis I
//! spec §5 without the framing bit): vendor string length (u32 LE), vendor string (UTF-8),
//! comment count (u32 LE), then per comment its length (u32 LE) and "NAME=value" in UTF-8.
//! Field names are the ones Xiph recommends ("Ogg Vorbis I format specification: comment field
//! and header specification"): TITLE, ARTIST, ALBUM, DATE; ISRC is in the same list.

use std::path::Path;

use flacenc::bitsink::ByteSink;
use flacenc::component::{BitRepr, MetadataBlockData};
use flacenc::error::Verify;

use super::{check_channels, Partial, PcmOptions};
use crate::render::dither::quantise_interleaved;
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
    let samples = quantise_interleaved(channels, pcm.bits as u32, pcm.shaping, pcm.seed);

    let config = flacenc::config::Encoder::default()
        .into_verified()
        .map_err(|(_, e)| err(format!("encoder configuration: {e}")))?;
    let source = flacenc::source::MemSource::from_samples(
        &samples,
        channels.len(),
        pcm.bits as usize,
        sample_rate as usize,
    );
    let mut stream = flacenc::encode_with_fixed_block_size(&config, source, config.block_size)
        .map_err(|e| err(format!("{e:?}")))?;
    // flacenc counts the short last block in STREAMINFO's minimum block size; RFC 9639 §8.2
    // excludes it ("the minimum block size ... excluding the last block"), and symphonia 0.6.1
    // refuses a fixed-blocksize stream whose minimum differs from its maximum. Every block but
    // the last has the configured size.
    stream
        .stream_info_mut()
        .set_block_sizes(config.block_size, config.block_size)
        .map_err(|e| err(format!("STREAMINFO block sizes: {e}")))?;
    let comments = vorbis_comment(meta);
    let block = MetadataBlockData::new_unknown(VORBIS_COMMENT, &comments)
        .map_err(|e| err(format!("Vorbis comment block: {e}")))?;
    stream.add_metadata_block(block);

    let mut sink = ByteSink::new();
    stream.write(&mut sink).map_err(|e| err(format!("{e:?}")))?;

    let partial = Partial::new(path);
    partial.write_all(sink.as_slice())?;
    partial.commit()
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
