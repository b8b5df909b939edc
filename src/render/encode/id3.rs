//! A minimal ID3v2.3 tag writer: text frames only, enough for release metadata.
//!
//! Version 2.3 rather than 2.4 because it is the one every player, tagger and aggregator
//! reads (Windows and older iTunes ignore 2.4). Layout per the ID3v2.3.0 informal standard
//! (id3.org, 1999): a 10-byte header "ID3" 03 00, flags 0, then the tag size as four 7-bit
//! ("syncsafe") bytes; each frame a 4-character id, a 32-bit big-endian size, two flag bytes
//! and the frame data. A text frame's data is an encoding byte followed by the text:
//! 0 = ISO-8859-1, 1 = UTF-16 with a byte-order mark (2.3 has no UTF-8).
//!
//! Frames: TIT2 title, TPE1 lead artist, TALB album, TYER year (exactly four digits in 2.3),
//! TSRC ISRC. The same tag goes at the start of the MP3 and in the WAV's `id3 ` chunk.

use crate::render::metadata::{year_of, Field, Metadata};

/// The ID3v2.3 tag for `meta`, or `None` when there is nothing to tag.
pub fn tag(meta: &Metadata) -> Option<Vec<u8>> {
    let mut frames = Vec::new();
    for (field, value) in meta.fields() {
        let (id, text) = match field {
            Field::Title => (b"TIT2", value.as_str()),
            Field::Artist => (b"TPE1", value.as_str()),
            Field::Album => (b"TALB", value.as_str()),
            // TYER is "always four characters long"; a value without a leading year is left
            // out rather than written malformed.
            Field::Year => match year_of(&value) {
                Some(year) => (b"TYER", year),
                None => continue,
            },
            Field::Isrc => (b"TSRC", value.as_str()),
        };
        text_frame(&mut frames, id, text);
    }
    if frames.is_empty() {
        return None;
    }
    let mut tag = Vec::with_capacity(10 + frames.len());
    tag.extend_from_slice(b"ID3\x03\x00\x00");
    tag.extend_from_slice(&syncsafe(frames.len() as u32));
    tag.extend_from_slice(&frames);
    Some(tag)
}

fn text_frame(out: &mut Vec<u8>, id: &[u8; 4], text: &str) {
    let mut data = Vec::with_capacity(1 + 2 * text.len());
    if text.chars().all(|c| (c as u32) <= 0xFF) {
        data.push(0);
        data.extend(text.chars().map(|c| c as u8));
    } else {
        data.push(1);
        data.extend_from_slice(&[0xFF, 0xFE]);
        for unit in text.encode_utf16() {
            data.extend_from_slice(&unit.to_le_bytes());
        }
    }
    out.extend_from_slice(id);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&data);
}

/// A size as four bytes of seven bits each, most significant first (ID3v2 header).
fn syncsafe(size: u32) -> [u8; 4] {
    [
        ((size >> 21) & 0x7F) as u8,
        ((size >> 14) & 0x7F) as u8,
        ((size >> 7) & 0x7F) as u8,
        (size & 0x7F) as u8,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_and_frames_follow_the_layout() {
        let meta = Metadata {
            title: Some("Ab".into()),
            year: Some("2024-05-17".into()),
            ..Default::default()
        };
        let tag = tag(&meta).unwrap();
        let frames_len = (10 + 3) + (10 + 5);
        assert_eq!(&tag[..6], b"ID3\x03\x00\x00");
        assert_eq!(&tag[6..10], &syncsafe(frames_len as u32));
        assert_eq!(&tag[10..23], b"TIT2\x00\x00\x00\x03\x00\x00\x00Ab");
        assert_eq!(&tag[23..], b"TYER\x00\x00\x00\x05\x00\x00\x002024");
        assert_eq!(syncsafe(0x0FFF_FFFF), [0x7F; 4]);
        assert_eq!(syncsafe(200), [0, 0, 1, 72]);
    }

    #[test]
    fn text_outside_latin1_is_utf16_with_a_bom() {
        let meta = Metadata {
            artist: Some("Ünïcødé ★".into()),
            ..Default::default()
        };
        let tag = tag(&meta).unwrap();
        assert_eq!(&tag[10..14], b"TPE1");
        assert_eq!(&tag[20..23], &[1, 0xFF, 0xFE]);
        let units: Vec<u16> = tag[23..]
            .chunks(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(String::from_utf16(&units).unwrap(), "Ünïcødé ★");
        assert!(super::tag(&Metadata::default()).is_none());
    }
}
