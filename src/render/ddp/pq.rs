//! The PQ descriptor: the disc's table of contents as the Q subchannel will carry it, one
//! 64-byte packet per index point, plus the lead-in and the lead-out.
//!
//! Packet layout (the field order of suntriprecords/ddpLib
//! `ddp/common/AbstractPqDescriptorLoader.java`; ddp-reverse-eng `spec/ddp2.md` section 5):
//!
//! | offset | width | field                                                              |
//! |--------|-------|--------------------------------------------------------------------|
//! | 0      | 4     | `VVVS`, a valid subcode packet                                     |
//! | 4      | 2     | track: `00` lead-in, `01`-`99`, `AA` lead-out                      |
//! | 6      | 2     | index: `00` pre-gap, `01` audio (`01` on the lead-out)             |
//! | 8      | 2     | hours, reserved: blank                                             |
//! | 10     | 6     | A-time MMSSFF from the start of the image (the Q channel's BCD digits) |
//! | 16     | 2     | control nibble in hex (bit 0 pre-emphasis, bit 1 copy permitted), then `1` (ADR mode 1) |
//! | 18     | 2     | reserved: blank                                                    |
//! | 20     | 12    | ISRC, on the first packet of its track                             |
//! | 32     | 13    | UPC/EAN, on the lead-in packet                                     |
//! | 45     | 19    | comment, not on the disc: blank                                    |
//!
//! The sequence is the lead-in packet (`00 00` at 00:00:00, carrying the UPC/EAN), then each
//! track's index 00 (when it has a gap; track 1 always does, at 00:00:00) and index 01, then
//! the lead-out `AA 01` at the end of the audio, written twice as Sonoris DDP Creator, HOFA and
//! cue2ddp all do (spec/ddp2.md note N9). Control `01` marks plain stereo audio, copy
//! prohibited, no pre-emphasis, as those tools write for a track without flags.

use super::fields::{number, put_text, text};
use super::layout::Layout;
use super::redbook::Msf;

pub const FILE_NAME: &str = "PQDESCR";
pub const LEN: usize = 64;
pub const MARKER: &[u8; 4] = b"VVVS";

pub const TRACK_AT: (usize, usize) = (4, 2);
pub const INDEX_AT: (usize, usize) = (6, 2);
pub const HOURS_AT: (usize, usize) = (8, 2);
pub const TIME_AT: (usize, usize) = (10, 6);
pub const CONTROL_AT: (usize, usize) = (16, 2);
pub const ISRC_AT: (usize, usize) = (20, 12);
pub const UPC_AT: (usize, usize) = (32, 13);

/// Control and ADR of every packet: no pre-emphasis, copy prohibited, two channels, mode 1.
pub const CONTROL: &str = "01";

/// Which part of the disc a packet describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PqTrack {
    LeadIn,
    Track(u8),
    LeadOut,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PqPacket {
    pub track: PqTrack,
    pub index: u8,
    pub time: Msf,
    pub control: String,
    pub isrc: Option<String>,
    pub upc_ean: Option<String>,
}

impl PqPacket {
    fn new(track: PqTrack, index: u8, sectors: u32) -> Self {
        Self {
            track,
            index,
            time: Msf::from_sectors(sectors),
            control: CONTROL.into(),
            isrc: None,
            upc_ean: None,
        }
    }

    pub fn encode(&self) -> [u8; LEN] {
        let mut r = [b' '; LEN];
        r[0..4].copy_from_slice(MARKER);
        let track = match self.track {
            PqTrack::LeadIn => "00".to_string(),
            PqTrack::Track(n) => format!("{n:02}"),
            PqTrack::LeadOut => "AA".to_string(),
        };
        put_text(&mut r, TRACK_AT.0, TRACK_AT.1, &track);
        put_text(
            &mut r,
            INDEX_AT.0,
            INDEX_AT.1,
            &format!("{:02}", self.index),
        );
        put_text(&mut r, TIME_AT.0, TIME_AT.1, &self.time.digits());
        put_text(&mut r, CONTROL_AT.0, CONTROL_AT.1, &self.control);
        put_text(
            &mut r,
            ISRC_AT.0,
            ISRC_AT.1,
            self.isrc.as_deref().unwrap_or(""),
        );
        put_text(
            &mut r,
            UPC_AT.0,
            UPC_AT.1,
            self.upc_ean.as_deref().unwrap_or(""),
        );
        r
    }

    pub fn decode(r: &[u8]) -> Result<Self, String> {
        if r.len() != LEN || &r[0..4] != MARKER {
            return Err("does not start with VVVS".into());
        }
        let track = match text(r, TRACK_AT.0, TRACK_AT.1).as_deref() {
            Some("00") => PqTrack::LeadIn,
            Some("AA") => PqTrack::LeadOut,
            Some(t) => match t.parse::<u8>() {
                Ok(n @ 1..=99) => PqTrack::Track(n),
                _ => return Err(format!("track {t:?} is not 00, 01-99 or AA")),
            },
            None => return Err("no track number".into()),
        };
        let index = match number(r, INDEX_AT.0, INDEX_AT.1) {
            Ok(Some(i)) if i <= 99 => i as u8,
            _ => return Err("no index number 00-99".into()),
        };
        match number(r, HOURS_AT.0, HOURS_AT.1) {
            Ok(None | Some(0)) => {}
            _ => return Err("the reserved hours field is set".into()),
        }
        let digits = String::from_utf8_lossy(&r[TIME_AT.0..TIME_AT.0 + TIME_AT.1]);
        let time =
            Msf::parse_digits(&digits).ok_or_else(|| format!("time {digits:?} is not MMSSFF"))?;
        Ok(Self {
            track,
            index,
            time,
            control: text(r, CONTROL_AT.0, CONTROL_AT.1).unwrap_or_default(),
            isrc: text(r, ISRC_AT.0, ISRC_AT.1),
            upc_ean: text(r, UPC_AT.0, UPC_AT.1),
        })
    }
}

/// The PQ packets of a disc laid out as `layout`, with each track's ISRC (12 characters,
/// validated) and the disc's UPC/EAN.
pub fn packets(layout: &Layout, isrcs: &[Option<String>], upc_ean: Option<&str>) -> Vec<PqPacket> {
    let mut out = Vec::with_capacity(2 * layout.tracks.len() + 3);
    let mut lead_in = PqPacket::new(PqTrack::LeadIn, 0, 0);
    lead_in.upc_ean = upc_ean.map(str::to_string);
    out.push(lead_in);
    for (track, isrc) in layout.tracks.iter().zip(isrcs) {
        let number = PqTrack::Track(track.number);
        let first = out.len();
        if let Some(index0) = track.index0 {
            out.push(PqPacket::new(number, 0, index0));
        }
        out.push(PqPacket::new(number, 1, track.index1));
        out[first].isrc = isrc.clone();
    }
    let lead_out = PqPacket::new(PqTrack::LeadOut, 1, layout.lead_out);
    out.push(lead_out.clone());
    out.push(lead_out);
    out
}

pub fn encode(packets: &[PqPacket]) -> Vec<u8> {
    packets.iter().flat_map(|p| p.encode()).collect()
}

pub fn decode(bytes: &[u8]) -> Result<Vec<PqPacket>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(LEN) {
        return Err(format!(
            "{} bytes, not a whole number of 64-byte packets",
            bytes.len()
        ));
    }
    bytes
        .chunks_exact(LEN)
        .enumerate()
        .map(|(i, r)| PqPacket::decode(r).map_err(|e| format!("packet {}: {e}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::ddp::layout::TrackLayout;

    #[test]
    fn packets_follow_the_layout() {
        let layout = Layout {
            tracks: vec![
                TrackLayout {
                    number: 1,
                    index0: Some(0),
                    index1: 150,
                    samples: 588 * 600,
                    sectors: 600,
                },
                TrackLayout {
                    number: 2,
                    index0: None,
                    index1: 750,
                    samples: 588 * 900,
                    sectors: 900,
                },
            ],
            lead_out: 1650,
        };
        let isrcs = [Some("USABC1234567".to_string()), None];
        let p = packets(&layout, &isrcs, Some("0123456789012"));
        let bytes = encode(&p);
        let at = |i: usize| &bytes[i * LEN..(i + 1) * LEN];
        assert_eq!(&at(0)[0..18], b"VVVS0000  00000001");
        assert_eq!(&at(0)[32..45], b"0123456789012");
        assert_eq!(&at(1)[0..32], b"VVVS0100  00000001  USABC1234567");
        assert_eq!(&at(2)[0..18], b"VVVS0101  00020001");
        assert!(at(2)[20..45].iter().all(|&b| b == b' '), "ISRC once");
        assert_eq!(&at(3)[0..18], b"VVVS0201  00100001");
        assert_eq!(&at(4)[0..18], b"VVVSAA01  00220001");
        assert_eq!(at(4), at(5));
        assert_eq!(decode(&bytes).unwrap(), p);
    }
}
