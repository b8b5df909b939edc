//! The tags every deliverable carries, whatever its container: WAV (RIFF INFO plus an ID3v2
//! chunk), FLAC (Vorbis comments) and MP3 (ID3v2).
//!
//! Values come from the command line and from album files, so they are cleaned here, once,
//! for every container: no control characters (a NUL ends an INFO string or an ID3v2 text
//! early for every reader, line breaks and escape sequences end up in players' displays and
//! in the logs of the aggregators that ingest the files), and a bounded length.

/// The longest tag value written, in characters. Generous for any real title (a classical
/// movement with its catalogue number runs to about 200), and far inside every container's
/// own limit: an ID3v2 tag's 28-bit size, a FLAC metadata block's 24-bit length (16 MiB), a
/// RIFF chunk's 32 bits. A longer value is cut at a character boundary.
pub const MAX_FIELD_CHARS: usize = 1024;

/// Release metadata. Every field is optional; an empty string counts as absent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Metadata {
    pub title: Option<String>,
    pub artist: Option<String>,
    pub album: Option<String>,
    /// International Standard Recording Code (ISO 3901), e.g. "GBAYE0601498". Stored as given
    /// except that the hyphens of the printed form ("GB-AYE-06-01498") are dropped, as the
    /// tag formats expect the 12-character code.
    pub isrc: Option<String>,
    /// Release year or date ("2024" or "2024-05-17"); formats that only hold a year get the
    /// first four characters.
    pub year: Option<String>,
}

impl Metadata {
    /// The fields that are present, cleaned ([`clean_text`]), as (field, value) pairs in a
    /// fixed order. Every encoder writes these and only these.
    pub fn fields(&self) -> Vec<(Field, String)> {
        let mut out = Vec::new();
        let mut push = |field: Field, value: &Option<String>| {
            let Some(v) = value.as_deref().map(clean_text).filter(|v| !v.is_empty()) else {
                return;
            };
            let v = match field {
                Field::Isrc => v.chars().filter(|c| *c != '-').collect(),
                _ => v,
            };
            out.push((field, v));
        };
        push(Field::Title, &self.title);
        push(Field::Artist, &self.artist);
        push(Field::Album, &self.album);
        push(Field::Year, &self.year);
        push(Field::Isrc, &self.isrc);
        out
    }

    /// True when no field is present.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }
}

/// A tag value as every container can hold it: line breaks and tabs become spaces, other
/// control characters (Unicode category Cc: C0, DEL and C1, NUL among them) are dropped, the
/// ends are trimmed, and at most [`MAX_FIELD_CHARS`] characters are kept.
pub fn clean_text(value: &str) -> String {
    let spaced: String = value
        .chars()
        .filter_map(|c| match c {
            '\t' | '\n' | '\r' | '\u{85}' => Some(' '),
            c if c.is_control() => None,
            c => Some(c),
        })
        .collect();
    spaced
        .trim()
        .chars()
        .take(MAX_FIELD_CHARS)
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// A metadata field, so each container maps it to its own key once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Title,
    Artist,
    Album,
    Year,
    Isrc,
}

/// The year part of a date ("2024-05-17" → "2024"), where the value starts with four digits.
pub fn year_of(value: &str) -> Option<&str> {
    let year = value.get(..4)?;
    year.bytes().all(|b| b.is_ascii_digit()).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_blank_fields_are_absent_and_isrc_loses_hyphens() {
        let m = Metadata {
            title: Some("  Song ".into()),
            artist: Some("".into()),
            isrc: Some("GB-AYE-06-01498".into()),
            ..Default::default()
        };
        assert_eq!(
            m.fields(),
            vec![
                (Field::Title, "Song".to_string()),
                (Field::Isrc, "GBAYE0601498".to_string())
            ]
        );
        assert!(Metadata::default().is_empty());
        assert_eq!(year_of("2024-05-17"), Some("2024"));
        assert_eq!(year_of("May 2024"), None);
    }

    #[test]
    fn control_characters_go_and_lengths_are_bounded() {
        assert_eq!(
            clean_text(" A\0B\r\nC\tD\x1b[31mE\x7f\u{9b}F "),
            "AB  C D[31mEF"
        );
        assert_eq!(clean_text("\0\n\t"), "");
        let long = "ä".repeat(5 * MAX_FIELD_CHARS);
        assert_eq!(clean_text(&long).chars().count(), MAX_FIELD_CHARS);
        let m = Metadata {
            title: Some("\0\r\n".into()),
            artist: Some("Zoë\u{0}".into()),
            ..Default::default()
        };
        assert_eq!(m.fields(), vec![(Field::Artist, "Zoë".to_string())]);
    }
}
