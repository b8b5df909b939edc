//! The deliverables a mastering session hands out, by name, and the file each one becomes.

use std::fmt;

/// One deliverable format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Format {
    /// Integer PCM WAV at a fixed rate and depth (the streaming and download masters).
    Wav { rate: u32, bits: u16 },
    /// MP3, 320 kbps CBR, 44.1 kHz: previews, promos, DJs.
    Mp3,
    /// FLAC, 24-bit, at twice the CD or video rate of the mix's family: 88.2 kHz for a
    /// 44.1 kHz-family mix, 96 kHz for a 48 kHz-family one (high-resolution stores).
    Flac,
}

/// The formats every render writes unless told otherwise.
pub const DEFAULT_FORMATS: [Format; 5] = [
    Format::Wav {
        rate: 44_100,
        bits: 16,
    },
    Format::Wav {
        rate: 44_100,
        bits: 24,
    },
    Format::Wav {
        rate: 48_000,
        bits: 16,
    },
    Format::Wav {
        rate: 48_000,
        bits: 24,
    },
    Format::Mp3,
];

/// MP3 is encoded from the CD-rate master.
pub const MP3_RATE: u32 = 44_100;
/// Bit depth of the high-resolution FLAC.
pub const FLAC_BITS: u16 = 24;

/// Names accepted by `--formats`, with what they mean.
pub const FORMAT_NAMES: [(&str, Format); 6] = [
    ("wav44-16", DEFAULT_FORMATS[0]),
    ("wav44-24", DEFAULT_FORMATS[1]),
    ("wav48-16", DEFAULT_FORMATS[2]),
    ("wav48-24", DEFAULT_FORMATS[3]),
    ("mp3", Format::Mp3),
    ("flac", Format::Flac),
];

impl Format {
    /// The rate this format is delivered at, for a mix at `source_rate`.
    pub fn rate(self, source_rate: u32) -> u32 {
        match self {
            Format::Wav { rate, .. } => rate,
            Format::Mp3 => MP3_RATE,
            Format::Flac => hi_res_rate(source_rate),
        }
    }

    /// Bits per sample of the written file (MP3 has none; it is reported as 16, what the
    /// decoder gives).
    pub fn bits(self) -> u16 {
        match self {
            Format::Wav { bits, .. } => bits,
            Format::Mp3 => 16,
            Format::Flac => FLAC_BITS,
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Wav { .. } => "wav",
            Format::Mp3 => "mp3",
            Format::Flac => "flac",
        }
    }

    /// The deliverable's file name: the master's name (`naming::master_name`), the rate and
    /// the depth, e.g. `song_44k1_16bit.wav`, `song_320k.mp3`, `song_96k_24bit.flac`.
    pub fn file_name(self, stem: &str, source_rate: u32) -> String {
        match self {
            Format::Mp3 => format!("{stem}_320k.mp3"),
            _ => format!(
                "{stem}_{}_{}bit.{}",
                rate_label(self.rate(source_rate)),
                self.bits(),
                self.extension()
            ),
        }
    }

    pub fn name(self) -> &'static str {
        FORMAT_NAMES
            .iter()
            .find(|(_, f)| *f == self)
            .map_or("?", |(n, _)| n)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Format::Wav { rate, bits } => write!(f, "WAV {} / {bits}-bit", rate_label(*rate)),
            Format::Mp3 => write!(f, "MP3 320 kbps"),
            Format::Flac => write!(f, "FLAC {FLAC_BITS}-bit"),
        }
    }
}

/// `44100` → `44k1`, `48000` → `48k`, `88200` → `88k2`.
pub fn rate_label(rate: u32) -> String {
    let k = rate / 1000;
    match (rate % 1000) / 100 {
        0 => format!("{k}k"),
        d => format!("{k}k{d}"),
    }
}

/// 88.2 kHz for the 44.1 kHz family (44.1, 88.2, 176.4), 96 kHz for everything else.
pub fn hi_res_rate(source_rate: u32) -> u32 {
    if source_rate.is_multiple_of(44_100) {
        88_200
    } else {
        96_000
    }
}

/// Parses `--formats`: `default`, `all`, or a comma-separated list of [`FORMAT_NAMES`].
/// The result is sorted and without repeats.
pub fn parse_formats(list: &str) -> Result<Vec<Format>, String> {
    let mut out = Vec::new();
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        match item {
            "default" => out.extend(DEFAULT_FORMATS),
            "all" => out.extend(FORMAT_NAMES.iter().map(|(_, f)| *f)),
            name => match FORMAT_NAMES.iter().find(|(n, _)| *n == name) {
                Some((_, f)) => out.push(*f),
                None => {
                    let known: Vec<&str> = FORMAT_NAMES.iter().map(|(n, _)| *n).collect();
                    return Err(format!(
                        "unknown format '{name}' (known: default, all, {})",
                        known.join(", ")
                    ));
                }
            },
        }
    }
    if out.is_empty() {
        return Err("no format given".into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_rates_and_lists() {
        let mix = "song";
        assert_eq!(
            DEFAULT_FORMATS[0].file_name(mix, 48_000),
            "song_44k1_16bit.wav"
        );
        assert_eq!(
            DEFAULT_FORMATS[3].file_name(mix, 44_100),
            "song_48k_24bit.wav"
        );
        assert_eq!(Format::Mp3.file_name(mix, 48_000), "song_320k.mp3");
        assert_eq!(Format::Flac.file_name(mix, 176_400), "song_88k2_24bit.flac");
        assert_eq!(Format::Flac.file_name(mix, 48_000), "song_96k_24bit.flac");
        assert_eq!(parse_formats("default").unwrap().len(), 5);
        assert_eq!(parse_formats("all").unwrap().len(), 6);
        assert_eq!(
            parse_formats("mp3, wav48-24,mp3").unwrap(),
            vec![DEFAULT_FORMATS[3], Format::Mp3]
        );
        assert!(parse_formats("ogg").unwrap_err().contains("ogg"));
        assert!(parse_formats("").is_err());
    }
}
