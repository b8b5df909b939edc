//! DDPMS, the map stream: one 128-byte packet per stream of the fileset, naming its file.
//!
//! Layout of a DDP 2.00 map packet. Offsets 0-90 follow the read order of suntriprecords/ddpLib
//! `ddp/common/AbstractMapPacketLoader.java`, 91-127 its `ddp/v20/MapPacketLoader.java`; the
//! DVD Forum's "DVD Cutting Master Format" (section 3, the DDVMS packet, DDP's DVD sibling)
//! gives the same offsets for MPV, DST, DSL, DSS, CDM, SSM, SCR, SIZ and DSI; ddp-reverse-eng
//! `spec/ddp2.md` section 4 records the values real audio masters carry.
//!
//! | offset | width | field | PQ descriptor | CD-TEXT      | audio image      |
//! |--------|-------|-------|---------------|--------------|------------------|
//! | 0      | 4     | MPV   | `VVVM`        | `VVVM`       | `VVVM`           |
//! | 4      | 2     | DST   | `S0`          | `S0`         | `D0`             |
//! | 6      | 8     | DSP   | blank         | blank        | blank            |
//! | 14     | 8     | DSL   | bytes         | bytes        | sectors          |
//! | 22     | 8     | DSS   | blank         | blank        | `00000000`       |
//! | 30     | 8     | SUB   | `PQ DESCR`    | `CDTEXT`     | blank            |
//! | 38     | 2     | CDM   | blank         | blank        | `DA` (CD-DA)     |
//! | 40     | 1     | SSM   | blank         | blank        | `7` (2352 bytes) |
//! | 41     | 1     | SCR   | blank         | blank        | `0`              |
//! | 42     | 4     | PRE1  | blank         | blank        | blank            |
//! | 46     | 4     | PRE2  | blank         | blank        | ` 150`           |
//! | 50     | 4     | PST   | blank         | blank        | blank            |
//! | 54     | 1     | MED   | blank         | blank        | blank            |
//! | 55     | 2     | TRK   | blank         | `00`         | blank            |
//! | 57     | 2     | IDX   | blank         | blank        | blank            |
//! | 59     | 12    | ISRC  | blank         | blank        | blank            |
//! | 71     | 3     | SIZ   | `017`         | `017`        | `017`            |
//! | 74     | 17    | DSI   | file name     | file name    | file name        |
//! | 91     | 37    | NEW, PRE1NXT, PAUSEADD, OFS, padding: blank                       |
//!
//! The packets come in the order Sonoris DDP Creator, HOFA and cue2ddp write them: CD-TEXT,
//! PQ descriptor, audio.

use super::fields::{number, put_space_padded, put_text, put_zero_padded, text};

pub const FILE_NAME: &str = "DDPMS";
pub const LEN: usize = 128;
pub const MARKER: &[u8; 4] = b"VVVM";

pub const TYPE_AT: (usize, usize) = (4, 2);
pub const LENGTH_AT: (usize, usize) = (14, 8);
pub const START_AT: (usize, usize) = (22, 8);
pub const SUBCODE_AT: (usize, usize) = (30, 8);
pub const CD_MODE_AT: (usize, usize) = (38, 2);
pub const STORAGE_MODE_AT: (usize, usize) = (40, 1);
pub const SCRAMBLED_AT: (usize, usize) = (41, 1);
pub const PREGAP2_AT: (usize, usize) = (46, 4);
pub const TRACK_AT: (usize, usize) = (55, 2);
pub const NAME_SIZE_AT: (usize, usize) = (71, 3);
pub const NAME_AT: (usize, usize) = (74, 17);

/// Stream types (DST).
pub const MAIN_DATA: &str = "D0";
pub const SUBCODE: &str = "S0";
/// Subcode descriptors (SUB).
pub const PQ_DESCRIPTOR: &str = "PQ DESCR";
pub const CD_TEXT: &str = "CDTEXT";
/// CD mode (CDM) of audio.
pub const CD_DA: &str = "DA";
/// Source storage mode 7: complete 2352-byte sectors.
pub const COMPLETE_2352: &str = "7";

/// One map packet, as written or as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapPacket {
    /// DST: "D0" main data, "S0" subcode, ...
    pub stream_type: String,
    /// DSL: sectors of main data, bytes of subcode.
    pub length: u64,
    /// DSS: the sector the stream starts at, when given.
    pub start: Option<u64>,
    /// SUB: "PQ DESCR", "CDTEXT", or `None` for main data.
    pub subcode: Option<String>,
    /// CDM: "DA" for audio.
    pub cd_mode: Option<String>,
    /// SSM: the source storage mode ("7" complete 2352-byte sectors, "0" user data only).
    pub storage_mode: Option<String>,
    /// PRE2: sectors of track 1's pre-gap included at the start of a main-data stream.
    pub pregap2: Option<u64>,
    /// DSI: the stream's file name.
    pub file_name: String,
}

impl MapPacket {
    pub fn pq(file_name: &str, bytes: u64) -> Self {
        Self::subcode(PQ_DESCRIPTOR, file_name, bytes)
    }

    pub fn cd_text(file_name: &str, bytes: u64) -> Self {
        Self::subcode(CD_TEXT, file_name, bytes)
    }

    fn subcode(kind: &str, file_name: &str, bytes: u64) -> Self {
        Self {
            stream_type: SUBCODE.into(),
            length: bytes,
            start: None,
            subcode: Some(kind.into()),
            cd_mode: None,
            storage_mode: None,
            pregap2: None,
            file_name: file_name.into(),
        }
    }

    /// The audio image: `sectors` complete 2352-byte sectors from A-time 00:00:00, starting
    /// with the `pregap` sectors of track 1's pre-gap.
    pub fn audio(file_name: &str, sectors: u64, pregap: u64) -> Self {
        Self {
            stream_type: MAIN_DATA.into(),
            length: sectors,
            start: Some(0),
            subcode: None,
            cd_mode: Some(CD_DA.into()),
            storage_mode: Some(COMPLETE_2352.into()),
            pregap2: Some(pregap),
            file_name: file_name.into(),
        }
    }

    pub fn is_audio(&self) -> bool {
        self.stream_type == MAIN_DATA && self.cd_mode.as_deref() == Some(CD_DA)
    }

    pub fn is_subcode(&self, kind: &str) -> bool {
        self.stream_type == SUBCODE && self.subcode.as_deref() == Some(kind)
    }

    pub fn encode(&self) -> [u8; LEN] {
        let mut r = [b' '; LEN];
        r[0..4].copy_from_slice(MARKER);
        put_text(&mut r, TYPE_AT.0, TYPE_AT.1, &self.stream_type);
        put_zero_padded(&mut r, LENGTH_AT.0, LENGTH_AT.1, self.length);
        if let Some(start) = self.start {
            put_zero_padded(&mut r, START_AT.0, START_AT.1, start);
        }
        put_text(
            &mut r,
            SUBCODE_AT.0,
            SUBCODE_AT.1,
            self.subcode.as_deref().unwrap_or(""),
        );
        if self.stream_type == MAIN_DATA {
            put_text(
                &mut r,
                CD_MODE_AT.0,
                CD_MODE_AT.1,
                self.cd_mode.as_deref().unwrap_or(""),
            );
            put_text(
                &mut r,
                STORAGE_MODE_AT.0,
                STORAGE_MODE_AT.1,
                self.storage_mode.as_deref().unwrap_or(""),
            );
            put_text(&mut r, SCRAMBLED_AT.0, SCRAMBLED_AT.1, "0");
        }
        if let Some(pregap) = self.pregap2 {
            put_space_padded(&mut r, PREGAP2_AT.0, PREGAP2_AT.1, pregap);
        }
        if self.is_subcode(CD_TEXT) {
            put_text(&mut r, TRACK_AT.0, TRACK_AT.1, "00");
        }
        put_zero_padded(&mut r, NAME_SIZE_AT.0, NAME_SIZE_AT.1, NAME_AT.1 as u64);
        put_text(&mut r, NAME_AT.0, NAME_AT.1, &self.file_name);
        r
    }

    /// Parses one packet; `Err` says which field is wrong.
    pub fn decode(r: &[u8]) -> Result<Self, String> {
        if r.len() != LEN || &r[0..4] != MARKER {
            return Err("a map packet does not start with VVVM".into());
        }
        let num = |at: (usize, usize), name: &str| {
            number(r, at.0, at.1).map_err(|raw| format!("{name} is {raw:?}, not a number"))
        };
        let stream_type = text(r, TYPE_AT.0, TYPE_AT.1).ok_or("a map packet has no type")?;
        let length = num(LENGTH_AT, "DSL")?.ok_or("a map packet has no length (DSL)")?;
        let file_name = text(r, NAME_AT.0, NAME_AT.1).ok_or("a map packet names no file")?;
        if file_name.contains(['/', '\\']) || file_name == ".." {
            return Err(format!("the file name {file_name:?} leaves the folder"));
        }
        Ok(Self {
            stream_type,
            length,
            start: num(START_AT, "DSS")?,
            subcode: text(r, SUBCODE_AT.0, SUBCODE_AT.1),
            cd_mode: text(r, CD_MODE_AT.0, CD_MODE_AT.1),
            storage_mode: text(r, STORAGE_MODE_AT.0, STORAGE_MODE_AT.1),
            pregap2: num(PREGAP2_AT, "PRE2")?,
            file_name,
        })
    }
}

/// The map stream of packets, concatenated.
pub fn encode(packets: &[MapPacket]) -> Vec<u8> {
    packets.iter().flat_map(|p| p.encode()).collect()
}

/// Parses a map stream.
pub fn decode(bytes: &[u8]) -> Result<Vec<MapPacket>, String> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(LEN) {
        return Err(format!(
            "{} bytes, not a whole number of 128-byte packets",
            bytes.len()
        ));
    }
    bytes
        .chunks_exact(LEN)
        .enumerate()
        .map(|(i, r)| MapPacket::decode(r).map_err(|e| format!("packet {}: {e}", i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_at_their_offsets() {
        let audio = MapPacket::audio("IMAGE.DAT", 13455, 150);
        let r = audio.encode();
        assert_eq!(&r[0..6], b"VVVMD0");
        assert_eq!(&r[14..30], b"0001345500000000");
        assert_eq!(&r[38..42], b"DA70");
        assert_eq!(&r[46..50], b" 150");
        assert_eq!(&r[71..91], b"017IMAGE.DAT        ");
        assert_eq!(MapPacket::decode(&r).unwrap(), audio);
        assert!(MapPacket::decode(&r).unwrap().is_audio());

        let pq = MapPacket::pq("PQDESCR", 448);
        let r = pq.encode();
        assert_eq!(&r[0..6], b"VVVMS0");
        assert_eq!(&r[30..38], b"PQ DESCR");
        assert!(r[38..42].iter().all(|&b| b == b' '));
        assert_eq!(MapPacket::decode(&r).unwrap(), pq);

        let text = MapPacket::cd_text("CDTEXT.BIN", 90);
        let r = text.encode();
        assert_eq!(&r[55..57], b"00");
        assert!(MapPacket::decode(&r).unwrap().is_subcode(CD_TEXT));

        let stream = encode(&[text.clone(), pq.clone(), audio.clone()]);
        assert_eq!(decode(&stream).unwrap(), vec![text, pq, audio]);
        assert!(decode(&stream[..200]).is_err());
    }
}
