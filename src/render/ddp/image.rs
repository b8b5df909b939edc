//! IMAGE.DAT, the audio of the whole programme: signed 16-bit little-endian samples, left then
//! right, in whole 2352-byte sectors (588 sample frames, 1/75 s), from A-time 00:00:00, so it
//! opens with track 1's 2-second pre-gap and ends where the lead-out begins.
//!
//! Byte order: little-endian is what cue2ddp's manual, XLD's DDP reader and every public
//! description agree on (ddp-reverse-eng `docs/research.md` section 5); the 2352-byte
//! sector of CD-DA audio is IEC 60908's.
//!
//! The bytes are produced in chunks by one function, so the file can be written and then read
//! back and compared with what was meant, byte for byte, without holding 800 MB in memory.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use md5::{Digest, Md5};

use super::error::DdpError;
use super::layout::Layout;
use super::redbook::{BYTES_PER_SECTOR, SAMPLES_PER_SECTOR};
use super::Disc;

pub const FILE_NAME: &str = "IMAGE.DAT";
/// Bytes handed out at a time: 256 sectors, 600 kB.
const CHUNK: usize = 256 * BYTES_PER_SECTOR;

struct Chunks<'a, E> {
    buf: Vec<u8>,
    sink: &'a mut dyn FnMut(&[u8]) -> Result<(), E>,
}

impl<E> Chunks<'_, E> {
    fn flush_if_full(&mut self) -> Result<(), E> {
        if self.buf.len() >= CHUNK {
            (self.sink)(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn silence(&mut self, mut bytes: usize) -> Result<(), E> {
        while bytes > 0 {
            let n = bytes.min(CHUNK - self.buf.len());
            self.buf.resize(self.buf.len() + n, 0);
            bytes -= n;
            self.flush_if_full()?;
        }
        Ok(())
    }

    fn samples(&mut self, pcm: &[[i16; 2]]) -> Result<(), E> {
        for [left, right] in pcm {
            self.buf.extend_from_slice(&left.to_le_bytes());
            self.buf.extend_from_slice(&right.to_le_bytes());
            self.flush_if_full()?;
        }
        Ok(())
    }
}

/// Hands the bytes of the disc's IMAGE.DAT to `sink`, in order.
pub fn for_each_chunk<E>(
    disc: &Disc,
    layout: &Layout,
    sink: &mut dyn FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut out = Chunks {
        buf: Vec::with_capacity(CHUNK),
        sink,
    };
    let mut at = 0u32;
    for (track, place) in disc.tracks.iter().zip(&layout.tracks) {
        out.silence((place.index1 - at) as usize * BYTES_PER_SECTOR)?;
        out.samples(&track.pcm)?;
        out.silence(place.padding_samples() * 4)?;
        at = place.end();
    }
    debug_assert_eq!(at, layout.lead_out);
    if !out.buf.is_empty() {
        (out.sink)(&out.buf)?;
    }
    Ok(())
}

/// Writes IMAGE.DAT to `path` and flushes it to the disk.
pub fn write(path: &Path, disc: &Disc, layout: &Layout) -> Result<(), DdpError> {
    let io = |e| DdpError::io(path, e);
    let mut file = File::create(path).map_err(io)?;
    for_each_chunk(disc, layout, &mut |bytes| file.write_all(bytes)).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Reads IMAGE.DAT back and compares it with what the disc should give, byte for byte;
/// returns its MD5 (hex), computed from the bytes on disk.
pub fn verify(path: &Path, disc: &Disc, layout: &Layout) -> Result<String, DdpError> {
    let io = |e| DdpError::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    let expected_len = u64::from(layout.lead_out) * BYTES_PER_SECTOR as u64;
    let len = file.metadata().map_err(io)?.len();
    let mismatch = |detail: String| DdpError::Verification {
        path: path.to_path_buf(),
        detail,
    };
    if len != expected_len {
        return Err(mismatch(format!("{len} bytes, expected {expected_len}")));
    }
    let mut md5 = Md5::new();
    let mut offset = 0u64;
    let mut on_disk = vec![0u8; CHUNK];
    for_each_chunk(disc, layout, &mut |want: &[u8]| -> Result<(), DdpError> {
        let got = &mut on_disk[..want.len()];
        file.read_exact(got).map_err(io)?;
        if got != want {
            let at = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(0);
            return Err(mismatch(format!(
                "byte {} differs from the audio written",
                offset + at as u64
            )));
        }
        md5.update(&*got);
        offset += want.len() as u64;
        Ok(())
    })?;
    Ok(hex(&md5.finalize()))
}

/// Lower-case hex, as md5sum prints digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The sample frames of `sectors` sectors of an image file from `start` (a sector number).
pub fn read_samples(path: &Path, start: u32, sectors: u32) -> Result<Vec<[i16; 2]>, DdpError> {
    let io = |e| DdpError::io(path, e);
    let mut file = File::open(path).map_err(io)?;
    file.seek(SeekFrom::Start(u64::from(start) * BYTES_PER_SECTOR as u64))
        .map_err(io)?;
    let mut bytes = vec![0u8; sectors as usize * BYTES_PER_SECTOR];
    file.read_exact(&mut bytes).map_err(io)?;
    let mut out = Vec::with_capacity(sectors as usize * SAMPLES_PER_SECTOR);
    for f in bytes.chunks_exact(4) {
        out.push([
            i16::from_le_bytes([f[0], f[1]]),
            i16::from_le_bytes([f[2], f[3]]),
        ]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::ddp::layout::layout;
    use crate::render::ddp::DiscTrack;

    #[test]
    fn bytes_are_little_endian_stereo_on_the_sector_grid() {
        let pcm: Vec<[i16; 2]> = (0..600).map(|i| [i as i16, -(i as i16) - 1]).collect();
        let disc = Disc {
            title: String::new(),
            performer: String::new(),
            upc_ean: None,
            tracks: vec![
                DiscTrack {
                    pcm: pcm.clone(),
                    title: String::new(),
                    performer: String::new(),
                    isrc: None,
                    pregap_sectors: 150,
                },
                DiscTrack {
                    pcm: vec![[0x1234, -2]; 3],
                    title: String::new(),
                    performer: String::new(),
                    isrc: None,
                    pregap_sectors: 1,
                },
            ],
        };
        let l = layout(&disc);
        let mut bytes = Vec::new();
        for_each_chunk(&disc, &l, &mut |b: &[u8]| -> Result<(), ()> {
            bytes.extend_from_slice(b);
            Ok(())
        })
        .unwrap();
        assert_eq!(bytes.len(), (150 + 2 + 1 + 1) * BYTES_PER_SECTOR);
        let t1 = 150 * BYTES_PER_SECTOR;
        assert!(bytes[..t1].iter().all(|&b| b == 0), "pre-gap is silent");
        assert_eq!(&bytes[t1..t1 + 8], &[0, 0, 0xFF, 0xFF, 1, 0, 0xFE, 0xFF]);
        let pad = t1 + 600 * 4;
        assert!(bytes[pad..153 * BYTES_PER_SECTOR].iter().all(|&b| b == 0));
        let t2 = 153 * BYTES_PER_SECTOR;
        assert_eq!(&bytes[t2..t2 + 4], &[0x34, 0x12, 0xFE, 0xFF]);
    }
}
