//! The tags every deliverable carries, whatever its container: WAV (RIFF INFO plus an ID3v2
//! chunk), FLAC (Vorbis comments) and MP3 (ID3v2).

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
    /// The fields that are present, trimmed, as (field, value) pairs in a fixed order.
    pub fn fields(&self) -> Vec<(Field, String)> {
        let mut out = Vec::new();
        let mut push = |field: Field, value: &Option<String>| {
            if let Some(v) = value.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
                let v = match field {
                    Field::Isrc => v.chars().filter(|c| *c != '-').collect(),
                    _ => v.to_string(),
                };
                out.push((field, v));
            }
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
}
