//! DDP 2.00 images: the master a CD replication plant presses from.
//!
//! A DDP image is a folder of files (`<out>/DDP/`):
//!
//! - `DDPID`: 128 bytes naming the level (`DDP 2.00`) and the disc's UPC/EAN ([`ddpid`]);
//! - `DDPMS`: one 128-byte map packet per stream, each naming its file ([`ddpms`]);
//! - `PQDESCR`: the PQ descriptor, 64 bytes per index point, with track starts, ISRCs and the
//!   UPC/EAN for the Q subchannel ([`pq`]);
//! - `CDTEXT.BIN`: CD-TEXT packs, when the disc has titles or performers ([`cdtext`]);
//! - `IMAGE.DAT`: the audio, 16-bit little-endian stereo in 2352-byte sectors from track 1's
//!   pre-gap to the lead-out ([`image`]);
//! - `CHECKSUM.MD5`: md5sum lines for the five files above ([`checksum`]).
//!
//! # Sources
//!
//! DCA's DDP specification is licensed, not public. The layouts here come from public
//! descriptions and open-source readers, cited where each field is written:
//!
//! - the DVD Forum, "DVD Cutting Master Format", section 3
//!   (<http://dvdforum.org/DVD_Cutting_Master/CMF-DVD-3.htm>): the DDVMS map packet, DDP's DVD
//!   sibling, with the same offsets for the fields they share;
//! - suntriprecords/ddpLib (<https://github.com/suntriprecords/ddpLib>, Java, GPL-3.0;
//!   written against DCA's 1.01 and 2.0 specifications): the loaders in `ddp/common`,
//!   `ddp/v20` and `cdtext` give the order and width of every field; only its layout is used
//!   here, none of its code;
//! - <https://github.com/ddp-reverse-eng/ddp-reverse-eng>, `spec/ddp2.md` and
//!   `docs/research.md`: the fields as Sonoris DDP Creator, HOFA and cue2ddp write them,
//!   compared with real filesets;
//! - CD-TEXT: SCSI MMC-3 (T10 draft revision 10g) Annex J, and Thomas Schmitt's "CD Text
//!   Format" (libcdio/libburn documentation) drawn from it;
//! - the Red Book (IEC 60908) for the disc's rules and CD time, ISO 3901 for the ISRC, the GS1
//!   General Specifications for the EAN-13 check digit.
//!
//! # Writing
//!
//! [`write_ddp`] checks every Red Book rule first ([`validate`]) and writes nothing when one is
//! broken. It then writes the image into a staging folder beside the destination, reads every
//! file back (the audio byte for byte against the tracks, the rest by MD5 and by parsing it
//! again), and only then moves the folder to its name. Tracks start on CD frames: each track's
//! audio is kept sample for sample and its last frame filled with silence ([`layout`]).

pub mod cdtext;
pub mod checksum;
pub mod ddpid;
pub mod ddpms;
mod error;
mod fields;
pub mod image;
pub mod layout;
pub mod pq;
mod reader;
pub mod redbook;
mod writer;

use std::path::PathBuf;

pub use cdtext::CdText;
pub use checksum::ChecksumCheck;
pub use error::{DdpError, Violation};
pub use reader::{read_ddp, DdpImage, ImageTrack};
pub use redbook::Msf;
pub use writer::write_ddp;

/// One track of a disc.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscTrack {
    /// 44.1 kHz, 16-bit stereo sample frames, exactly as in the track's WAV.
    pub pcm: Vec<[i16; 2]>,
    /// CD-TEXT title; empty for none. ISO 8859-1 characters only.
    pub title: String,
    /// CD-TEXT performer; empty for none.
    pub performer: String,
    /// ISO 3901, `CC-XXX-YY-NNNNN` or the 12 characters without hyphens.
    pub isrc: Option<String>,
    /// Silence before the track (index 00) in CD frames (sectors) of 1/75 s, 588 sample frames
    /// each. Track 1's is always the Red Book's 2 seconds, 150. Convert a gap given in seconds
    /// or samples with [`redbook::gap_sectors_from_seconds`] or
    /// [`redbook::gap_sectors_from_samples`], which refuse one that is not whole frames.
    pub pregap_sectors: u32,
}

/// A whole disc.
#[derive(Debug, Clone, PartialEq)]
pub struct Disc {
    /// CD-TEXT album title; empty for none.
    pub title: String,
    /// CD-TEXT album performer; empty for none.
    pub performer: String,
    /// The disc's UPC/EAN (Media Catalogue Number), 13 digits.
    pub upc_ean: Option<String>,
    pub tracks: Vec<DiscTrack>,
}

/// Checks the disc against the Red Book: 1 to 99 tracks, each at least 4 s, the programme
/// under 79:57, track 1's pre-gap 2 s, well-formed ISRCs and UPC/EAN, and CD-TEXT that
/// CD-TEXT can hold. Every broken rule is listed in the error.
pub fn validate(disc: &Disc) -> Result<(), DdpError> {
    let problems = redbook::violations(disc);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DdpError::RedBook { problems })
    }
}

/// One track of a written image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackSummary {
    pub number: u8,
    /// Index 00, when the track has a gap.
    pub index0: Option<Msf>,
    /// Index 01, where its audio starts.
    pub index1: Msf,
    /// From index 01 to the next track's first index (or the lead-out).
    pub length: Msf,
    /// Silent sample frames after the audio that fill its last frame.
    pub padding_samples: usize,
    /// 12 characters, as written.
    pub isrc: Option<String>,
}

/// What [`write_ddp`] wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct DdpSummary {
    pub dir: PathBuf,
    pub tracks: Vec<TrackSummary>,
    pub lead_out: Msf,
    pub image_bytes: u64,
    /// CD-TEXT packs written (0 when the disc has no text).
    pub cd_text_packs: usize,
    /// `(file, md5)` as written to CHECKSUM.MD5.
    pub checksums: Vec<(String, String)>,
    /// Things the engineer should know before sending the image out.
    pub warnings: Vec<String>,
}
