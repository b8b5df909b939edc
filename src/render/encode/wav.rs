//! PCM WAV deliverables (16 or 24-bit) with release metadata, written by hand because hound
//! writes no metadata chunks.
//!
//! Layout (RIFF, Microsoft/IBM "Multimedia Programming Interface and Data Specifications 1.0",
//! 1991): `RIFF` size `WAVE`, then
//! * `fmt ` with WAVE_FORMAT_PCM (1) for both word lengths, as Broadcast Wave (EBU Tech 3285)
//!   does; every reader we deliver to accepts it for 24 bits, and some older ones refuse
//!   WAVE_FORMAT_EXTENSIBLE;
//! * `LIST`/`INFO` with INAM (title), IART (artist), IPRD (product: the album), ICRD (creation
//!   date: the year) and ISFT (software), each a NUL-terminated string padded to an even
//!   length. The 1991 spec's `ISRC` INFO id means "Source" (who supplied the material), not
//!   the recording code, so the ISRC is not put there;
//! * `id3 ` holding an ID3v2.3 tag (TIT2, TPE1, TALB, TYER, TSRC), the chunk ffmpeg, foobar2000,
//!   iTunes and taggers read WAV tags from, and the only common place for the ISRC;
//! * `data`, little-endian two's complement samples, interleaved, padded to an even length.
//!
//! Text is written as UTF-8 (INFO strings have no declared code page; UTF-8 is what ffmpeg and
//! most current software write and read).

use std::io::Write;
use std::path::Path;

use super::{check_channels, id3, Partial, PcmOptions};
use crate::render::dither::{channel_seed, Quantiser};
use crate::render::error::RenderError;
use crate::render::metadata::{Field, Metadata};

const WAVE_FORMAT_PCM: u16 = 1;

/// Writes planar `channels` as a `bits`-bit PCM WAV at `sample_rate`, TPDF-dithered (with the
/// options' noise shaping), tagged with `meta`. Atomic: the file appears complete or not at
/// all.
pub fn write_wav(
    path: &Path,
    channels: &[Vec<f32>],
    sample_rate: u32,
    pcm: PcmOptions,
    meta: &Metadata,
) -> Result<(), RenderError> {
    let err = |detail: String| RenderError::Wav {
        path: path.to_path_buf(),
        detail,
    };
    let frames = check_channels(path, "WAV", channels)?;
    if pcm.bits != 16 && pcm.bits != 24 {
        return Err(err(format!("{} bits; 16 or 24 are supported", pcm.bits)));
    }
    let n_ch = channels.len() as u16;
    let bytes_per_sample = pcm.bits / 8;
    let block_align = n_ch * bytes_per_sample;

    let info = info_chunk(meta);
    let id3 = id3::tag(meta);
    let data_len = frames as u64 * block_align as u64;
    let riff_len = 4
        + chunk_len(16)
        + info.as_ref().map_or(0, |i| chunk_len(i.len() as u64))
        + id3.as_ref().map_or(0, |t| chunk_len(t.len() as u64))
        + chunk_len(data_len);
    let riff_len = u32::try_from(riff_len)
        .map_err(|_| err("over 4 GiB, the RIFF size limit (RF64 is not supported)".into()))?;

    let mut fmt = Vec::with_capacity(16);
    fmt.extend_from_slice(&WAVE_FORMAT_PCM.to_le_bytes());
    fmt.extend_from_slice(&n_ch.to_le_bytes());
    fmt.extend_from_slice(&sample_rate.to_le_bytes());
    fmt.extend_from_slice(&(sample_rate * block_align as u32).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&pcm.bits.to_le_bytes());

    let partial = Partial::new(path);
    partial.write_with(|out| {
        out.write_all(b"RIFF")?;
        out.write_all(&riff_len.to_le_bytes())?;
        out.write_all(b"WAVE")?;
        write_chunk(out, b"fmt ", &fmt)?;
        if let Some(info) = &info {
            write_chunk(out, b"LIST", info)?;
        }
        if let Some(tag) = &id3 {
            write_chunk(out, b"id3 ", tag)?;
        }
        out.write_all(b"data")?;
        out.write_all(&(data_len as u32).to_le_bytes())?;
        let mut quantisers: Vec<Quantiser> = (0..channels.len())
            .map(|c| Quantiser::new(pcm.bits as u32, pcm.shaping, channel_seed(pcm.seed, c)))
            .collect();
        for i in 0..frames {
            for (q, c) in quantisers.iter_mut().zip(channels) {
                let s = q.quantise(c[i]).to_le_bytes();
                out.write_all(&s[..bytes_per_sample as usize])?;
            }
        }
        if data_len % 2 == 1 {
            out.write_all(&[0])?;
        }
        Ok(())
    })?;
    partial.commit()
}

/// The bytes a chunk with `len` bytes of content takes: header, content, pad byte.
fn chunk_len(len: u64) -> u64 {
    8 + len + len % 2
}

fn write_chunk(out: &mut impl Write, id: &[u8; 4], content: &[u8]) -> std::io::Result<()> {
    out.write_all(id)?;
    out.write_all(&(content.len() as u32).to_le_bytes())?;
    out.write_all(content)?;
    if content.len() % 2 == 1 {
        out.write_all(&[0])?;
    }
    Ok(())
}

/// The content of the `LIST` chunk (starting with "INFO"), or `None` without metadata.
fn info_chunk(meta: &Metadata) -> Option<Vec<u8>> {
    let fields = meta.fields();
    if fields.is_empty() {
        return None;
    }
    let mut list = b"INFO".to_vec();
    for (field, value) in &fields {
        let id = match field {
            Field::Title => b"INAM",
            Field::Artist => b"IART",
            Field::Album => b"IPRD",
            Field::Year => b"ICRD",
            Field::Isrc => continue,
        };
        info_item(&mut list, id, value);
    }
    info_item(
        &mut list,
        b"ISFT",
        concat!("Lathe ", env!("CARGO_PKG_VERSION")),
    );
    Some(list)
}

fn info_item(list: &mut Vec<u8>, id: &[u8; 4], text: &str) {
    // A NUL inside the text would end the string early for every reader.
    let mut z: Vec<u8> = text.bytes().filter(|&b| b != 0).collect();
    z.push(0);
    list.extend_from_slice(id);
    list.extend_from_slice(&(z.len() as u32).to_le_bytes());
    list.extend_from_slice(&z);
    if z.len() % 2 == 1 {
        list.push(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_items_are_nul_terminated_and_even() {
        let meta = Metadata {
            title: Some("Ab".into()),
            isrc: Some("GBAYE0601498".into()),
            ..Default::default()
        };
        let list = info_chunk(&meta).unwrap();
        assert_eq!(&list[..4], b"INFO");
        // "Ab\0" is 3 bytes, padded to 4; the ISRC has no INFO item.
        assert_eq!(&list[4..16], b"INAM\x03\x00\x00\x00Ab\x00\x00");
        assert_eq!(&list[16..20], b"ISFT");
        assert_eq!(list.len() % 2, 0);
        assert!(info_chunk(&Metadata::default()).is_none());
    }
}
