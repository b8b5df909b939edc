//! CD-TEXT: album and track titles and performers, as the 18-byte packs of the lead-in's R-W
//! subchannel (the "Sony" CD-TEXT of the Red Book's CD-TEXT annex, laid out in SCSI MMC-3,
//! draft revision 10g, Annex J; Thomas Schmitt's "CD Text Format" for libcdio/libburn describes
//! the same from that annex). DDP carries the packs unchanged in a file of their own (the
//! `CDTEXT` subcode stream of DDPMS).
//!
//! A pack:
//!
//! | byte  | content                                                                  |
//! |-------|--------------------------------------------------------------------------|
//! | 0     | pack type: 0x80 title, 0x81 performer, ..., 0x8F size information        |
//! | 1     | track number of the string that byte 4 belongs to (0 = the disc)         |
//! | 2     | sequence number, counting every pack of the block from 0                 |
//! | 3     | bit 7 double-byte text (0), bits 6-4 block (0), bits 3-0 the characters of that string already in earlier packs (15 = 15 or more) |
//! | 4-15  | 12 bytes of text                                                         |
//! | 16-17 | CRC-16 of bytes 0-15: polynomial x^16 + x^12 + x^5 + 1 (0x1021), initial value 0, all bits inverted, high byte first |
//!
//! Each text type holds one NUL-terminated string for the disc, then one per track, running on
//! from pack to pack; its last pack is filled with NUL. Three size-information packs (0x8F)
//! close the block: 36 bytes giving the character set (0x00 ISO 8859-1), first and last track,
//! copyright (0), the number of packs of each type 0x80-0x8F, the last sequence number of each
//! of the 8 blocks, and each block's language (0x09 English, the EBU Tech 3264 code).
//!
//! The real packs in suntriprecords/ddpLib's comments (`cdtext/LeadInTextPack.java`, and
//! `LeadInBlockSize.java` in its older tree) serve as test vectors below.

use super::error::Violation;
use super::Disc;

pub const FILE_NAME: &str = "CDTEXT.BIN";
pub const PACK_LEN: usize = 18;
const TEXT_LEN: usize = 12;
pub const TITLE: u8 = 0x80;
pub const PERFORMER: u8 = 0x81;
pub const SIZE_INFO: u8 = 0x8F;
/// Packs in one block. The sequence number is a byte, and Schmitt's "CD Text Format" gives 253
/// as the capacity of a block; keep to the smaller.
pub const MAX_PACKS: usize = 253;
const CHARSET_ISO_8859_1: u8 = 0x00;
const LANGUAGE_ENGLISH: u8 = 0x09;

/// CRC-16/CCITT as CD-TEXT uses it (see the module docs): MSB first, initial 0, inverted.
pub fn crc16(bytes: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    !crc
}

/// Whether a pack's CRC matches its first 16 bytes.
pub fn pack_crc_ok(pack: &[u8]) -> bool {
    pack.len() == PACK_LEN && crc16(&pack[..16]).to_be_bytes() == [pack[16], pack[17]]
}

/// `text` in ISO 8859-1, or the first character CD-TEXT cannot hold. Control characters are
/// refused too: NUL ends a string and TAB means "same as the previous track".
fn latin1(text: &str, field: impl Fn() -> String) -> Result<Vec<u8>, Violation> {
    text.chars()
        .map(|ch| {
            let code = ch as u32;
            if code > 0xFF || ch.is_control() {
                Err(Violation::CdTextCharacter { field: field(), ch })
            } else {
                Ok(code as u8)
            }
        })
        .collect()
}

struct Packs {
    bytes: Vec<u8>,
    count_by_type: [u8; 16],
}

impl Packs {
    fn push(&mut self, kind: u8, track: u8, position: u8, payload: &[u8; TEXT_LEN]) {
        let sequence = (self.bytes.len() / PACK_LEN) as u8;
        let mut pack = [0u8; PACK_LEN];
        pack[0] = kind;
        pack[1] = track;
        pack[2] = sequence;
        pack[3] = position.min(15);
        pack[4..16].copy_from_slice(payload);
        let crc = crc16(&pack[..16]).to_be_bytes();
        pack[16..18].copy_from_slice(&crc);
        self.bytes.extend_from_slice(&pack);
        let slot = &mut self.count_by_type[usize::from(kind - 0x80)];
        *slot = slot.saturating_add(1);
    }

    /// The strings of one type, disc first, cut into packs.
    fn push_text(&mut self, kind: u8, strings: &[Vec<u8>]) {
        // (track, characters of its string before this byte) for every byte of the run.
        let mut owner = Vec::new();
        let mut run = Vec::new();
        for (track, s) in strings.iter().enumerate() {
            for i in 0..=s.len() {
                owner.push((track as u8, i));
            }
            run.extend_from_slice(s);
            run.push(0);
        }
        for (k, chunk) in run.chunks(TEXT_LEN).enumerate() {
            let mut payload = [0u8; TEXT_LEN];
            payload[..chunk.len()].copy_from_slice(chunk);
            let (track, position) = owner[k * TEXT_LEN];
            self.push(kind, track, position.min(15) as u8, &payload);
        }
    }
}

/// The CD-TEXT packs of a disc (titles and performers of the disc and its tracks), or `None`
/// when the disc has no text at all. Refuses text CD-TEXT cannot hold.
pub fn encode(disc: &Disc) -> Result<Option<Vec<u8>>, Violation> {
    let kinds: [(u8, &str, String, Vec<&str>); 2] = [
        (
            TITLE,
            "title",
            disc.title.clone(),
            disc.tracks.iter().map(|t| t.title.as_str()).collect(),
        ),
        (
            PERFORMER,
            "performer",
            disc.performer.clone(),
            disc.tracks.iter().map(|t| t.performer.as_str()).collect(),
        ),
    ];
    let mut packs = Packs {
        bytes: Vec::new(),
        count_by_type: [0; 16],
    };
    for (kind, what, album, tracks) in &kinds {
        if album.is_empty() && tracks.iter().all(|t| t.is_empty()) {
            continue;
        }
        let mut strings = vec![latin1(album, || format!("the album's {what}"))?];
        for (i, t) in tracks.iter().enumerate() {
            strings.push(latin1(t, || format!("the {what} of track {}", i + 1))?);
        }
        packs.push_text(*kind, &strings);
    }
    if packs.bytes.is_empty() {
        return Ok(None);
    }
    let total = packs.bytes.len() / PACK_LEN + 3;
    if total > MAX_PACKS {
        return Err(Violation::CdTextTooLong {
            packs: total,
            max: MAX_PACKS,
        });
    }
    packs.count_by_type[usize::from(SIZE_INFO - 0x80)] = 3;
    let mut info = [0u8; 3 * TEXT_LEN];
    info[0] = CHARSET_ISO_8859_1;
    info[1] = 1;
    info[2] = disc.tracks.len() as u8;
    info[3] = 0;
    info[4..20].copy_from_slice(&packs.count_by_type);
    info[20] = (total - 1) as u8;
    info[28] = LANGUAGE_ENGLISH;
    for (i, payload) in info.chunks_exact(TEXT_LEN).enumerate() {
        packs.push(SIZE_INFO, i as u8, 0, payload.try_into().expect("12 bytes"));
    }
    Ok(Some(packs.bytes))
}

/// The text a reader finds in CD-TEXT.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CdText {
    pub album_title: String,
    pub album_performer: String,
    /// Per track, from track 1.
    pub track_titles: Vec<String>,
    pub track_performers: Vec<String>,
    /// Packs read, every one with a good CRC.
    pub packs: usize,
}

/// Reads CD-TEXT packs, checking every CRC. Reads block 0 (the first language) as ISO 8859-1.
pub fn decode(bytes: &[u8]) -> Result<CdText, String> {
    // The Sony file format allows one trailing NUL after the packs (libburn's cdrskin manual).
    let bytes = match bytes.len() % PACK_LEN {
        0 => bytes,
        1 if bytes.last() == Some(&0) => &bytes[..bytes.len() - 1],
        _ => {
            return Err(format!(
                "{} bytes, not a whole number of 18-byte packs",
                bytes.len()
            ))
        }
    };
    let mut text = CdText::default();
    let mut runs: [(Option<u8>, Vec<u8>); 2] = Default::default();
    for (i, pack) in bytes.chunks_exact(PACK_LEN).enumerate() {
        if !pack_crc_ok(pack) {
            return Err(format!(
                "pack {} (type 0x{:02X}) fails its CRC",
                i + 1,
                pack[0]
            ));
        }
        if pack[3] & 0x70 != 0 {
            continue; // a further language block
        }
        let slot = match pack[0] {
            TITLE => 0,
            PERFORMER => 1,
            _ => continue,
        };
        let run = &mut runs[slot];
        run.0.get_or_insert(pack[1] & 0x7F);
        run.1.extend_from_slice(&pack[4..16]);
    }
    text.packs = bytes.len() / PACK_LEN;
    for (slot, (first, run)) in runs.iter().enumerate() {
        let Some(first) = *first else { continue };
        let mut strings: Vec<String> = Vec::new();
        let mut parts = run.split(|&b| b == 0).collect::<Vec<_>>();
        // The run ends with the NUL padding of its last pack.
        while parts.len() > 1 && parts.last().is_some_and(|p| p.is_empty()) {
            parts.pop();
        }
        for part in parts {
            let s = if part == [0x09] {
                strings.last().cloned().unwrap_or_default()
            } else {
                part.iter().map(|&b| char::from(b)).collect()
            };
            strings.push(s);
        }
        let mut by_track = strings.into_iter();
        let (album, tracks) = if slot == 0 {
            (&mut text.album_title, &mut text.track_titles)
        } else {
            (&mut text.album_performer, &mut text.track_performers)
        };
        if first == 0 {
            *album = by_track.next().unwrap_or_default();
        } else {
            tracks.resize(usize::from(first) - 1, String::new());
        }
        tracks.extend(by_track);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::ddp::DiscTrack;

    fn hex(s: &str) -> Vec<u8> {
        s.split_whitespace()
            .map(|h| u8::from_str_radix(h, 16).unwrap())
            .collect()
    }

    #[test]
    fn crc_matches_the_catalogue_and_real_packs() {
        // CRC-16/XMODEM's catalogue check value is 0x31C3; CD-TEXT inverts it.
        assert_eq!(crc16(b"123456789"), !0x31C3);
        // Packs read from real discs, quoted in ddpLib's comments.
        for pack in [
            "8F 00 2B 00 01 01 0D 03 0C 0C 00 00 00 00 01 00 7B 3D",
            "8F 01 2C 00 00 00 00 00 00 00 12 03 2D 00 00 00 DA B7",
            "8F 02 2D 00 00 00 00 00 09 00 00 00 00 00 00 00 6A 24",
            "81 04 12 00 41 72 74 69 66 61 63 74 33 30 33 00 58 52",
        ] {
            assert!(pack_crc_ok(&hex(pack)), "{pack}");
        }
        let mut bad = hex("81 04 12 00 41 72 74 69 66 61 63 74 33 30 33 00 58 52");
        bad[5] ^= 1;
        assert!(!pack_crc_ok(&bad));
    }

    fn disc(title: &str, tracks: &[&str]) -> Disc {
        Disc {
            title: title.into(),
            performer: String::new(),
            upc_ean: None,
            tracks: tracks
                .iter()
                .map(|t| DiscTrack {
                    pcm: Vec::new(),
                    title: t.to_string(),
                    performer: String::new(),
                    isrc: None,
                    pregap_sectors: 0,
                })
                .collect(),
        }
    }

    #[test]
    fn title_packs_match_a_real_disc() {
        // The first four title packs of the disc quoted in ddpLib's LeadInTextPack.java:
        // headers (track, sequence, character position), text and CRC all agree.
        let d = disc(
            "Back To Space",
            &["Magnetic Fields", "Trancemission", "They Came"],
        );
        let packs = encode(&d).unwrap().unwrap();
        let expected = [
            "80 00 00 00 42 61 63 6B 20 54 6F 20 53 70 61 63 8C 23",
            "80 00 01 0C 65 00 4D 61 67 6E 65 74 69 63 20 46 D3 AF",
            "80 01 02 0A 69 65 6C 64 73 00 54 72 61 6E 63 65 B0 2C",
            "80 02 03 06 6D 69 73 73 69 6F 6E 00 54 68 65 79 C6 57",
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(
                &packs[i * PACK_LEN..(i + 1) * PACK_LEN],
                &hex(e)[..],
                "pack {i}"
            );
        }
        let back = decode(&packs).unwrap();
        assert_eq!(back.album_title, "Back To Space");
        assert_eq!(
            back.track_titles,
            ["Magnetic Fields", "Trancemission", "They Came"]
        );
        assert_eq!(back.album_performer, "");
        assert!(back.track_performers.is_empty());
    }

    #[test]
    fn size_information_counts_the_packs() {
        let d = disc("Album", &["One", "Two"]);
        let packs = encode(&d).unwrap().unwrap();
        // "Album\0One\0Two\0" is 14 bytes: 2 title packs, then 3 size packs.
        assert_eq!(packs.len(), 5 * PACK_LEN);
        let info: Vec<u8> = packs[2 * PACK_LEN..]
            .chunks_exact(PACK_LEN)
            .flat_map(|p| {
                assert_eq!(p[0], SIZE_INFO);
                p[4..16].to_vec()
            })
            .collect();
        assert_eq!(&info[0..4], &[0x00, 1, 2, 0]);
        assert_eq!(info[4], 2, "title packs");
        assert_eq!(info[4 + 15], 3, "size packs");
        assert_eq!(info[20], 4, "last sequence number");
        assert_eq!(info[28], 0x09, "English");
    }

    #[test]
    fn text_cd_text_cannot_hold_is_refused() {
        let e = encode(&disc("Night \u{2014} Drive", &["x"])).unwrap_err();
        assert!(matches!(
            e,
            Violation::CdTextCharacter { ch: '\u{2014}', .. }
        ));
        assert!(e.to_string().contains("the album's title"), "{e}");
        assert!(encode(&disc("Café", &["Ünder"])).is_ok(), "Latin-1 is fine");
        assert!(encode(&disc("a\tb", &["x"])).is_err());
        assert_eq!(encode(&disc("", &["", ""])).unwrap(), None);
        let long = "x".repeat(12 * 260);
        assert!(matches!(
            encode(&disc(&long, &["y"])),
            Err(Violation::CdTextTooLong { .. })
        ));
    }
}
