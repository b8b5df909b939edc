//! The Red Book's rules for an audio CD (IEC 60908), the codes a disc carries (ISRC, ISO 3901;
//! UPC/EAN, GS1), and the arithmetic of CD time.
//!
//! CD time counts *frames* of 1/75 s, also called sectors or blocks: each holds 2352 bytes of
//! audio, 588 stereo sample frames of 16 bits at 44.1 kHz (IEC 60908; 44100 / 75 = 588). This
//! module says "sector" for them so they are never confused with sample frames. Addresses are
//! written as MM:SS:FF (minutes, seconds 0-59, frames 0-74), the digits the Q subchannel carries
//! in BCD.

use std::fmt;

use super::error::Violation;
use super::Disc;

/// CD audio's only sample rate.
pub const SAMPLE_RATE_HZ: u32 = 44_100;
/// Sectors (CD frames) per second.
pub const SECTORS_PER_SECOND: u32 = 75;
/// Stereo sample frames per sector: 44100 / 75.
pub const SAMPLES_PER_SECTOR: usize = 588;
/// Bytes per sector of CD-DA: 588 frames of two 16-bit samples.
pub const BYTES_PER_SECTOR: usize = 2352;
/// The pause before track 1: 2 seconds (IEC 60908), which every DDP image starts with.
pub const FIRST_PREGAP_SECTORS: u32 = 2 * SECTORS_PER_SECOND;
/// The shortest track the Red Book allows: 4 seconds.
pub const MIN_TRACK_SAMPLES: usize = 4 * SAMPLE_RATE_HZ as usize;
/// At most 99 tracks: the Q subchannel's track number has two BCD digits, AA is the lead-out.
pub const MAX_TRACKS: usize = 99;
/// The programme must end before 79:57:00, the length replication plants accept for a
/// standard 80-minute disc (pre-gaps included).
pub const MAX_PROGRAM: Msf = Msf {
    minutes: 79,
    seconds: 57,
    frames: 0,
};

/// A CD address or duration, MM:SS:FF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Msf {
    pub minutes: u32,
    pub seconds: u32,
    pub frames: u32,
}

impl Msf {
    pub fn from_sectors(sectors: u32) -> Self {
        Self {
            minutes: sectors / (60 * SECTORS_PER_SECOND),
            seconds: sectors / SECTORS_PER_SECOND % 60,
            frames: sectors % SECTORS_PER_SECOND,
        }
    }

    pub fn sectors(self) -> u32 {
        (self.minutes * 60 + self.seconds) * SECTORS_PER_SECOND + self.frames
    }

    /// The six digits MMSSFF, as the PQ descriptor writes a time.
    pub fn digits(self) -> String {
        format!("{:02}{:02}{:02}", self.minutes, self.seconds, self.frames)
    }

    /// Parses MMSSFF; `None` unless it is six digits with seconds < 60 and frames < 75.
    pub fn parse_digits(digits: &str) -> Option<Self> {
        if digits.len() != 6 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let part = |i: usize| digits[i..i + 2].parse::<u32>().ok();
        let msf = Self {
            minutes: part(0)?,
            seconds: part(2)?,
            frames: part(4)?,
        };
        (msf.seconds < 60 && msf.frames < SECTORS_PER_SECOND).then_some(msf)
    }
}

impl fmt::Display for Msf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}:{:02}",
            self.minutes, self.seconds, self.frames
        )
    }
}

/// Sectors needed to hold `samples` stereo sample frames: the last one is filled with silence.
pub fn sectors_for_samples(samples: usize) -> u32 {
    samples.div_ceil(SAMPLES_PER_SECTOR) as u32
}

/// A gap given in sample frames at 44.1 kHz, as sectors. Gaps sit between tracks on the disc's
/// frame grid, so a gap that is not a whole number of 1/75 s frames is refused rather than
/// rounded: rounding would move every later track start by up to 13 ms.
pub fn gap_sectors_from_samples(samples: u64) -> Result<u32, Violation> {
    let per = SAMPLES_PER_SECTOR as u64;
    if !samples.is_multiple_of(per) || samples / per > u64::from(u32::MAX) {
        return Err(Violation::GapNotWholeFrames {
            seconds: samples as f64 / f64::from(SAMPLE_RATE_HZ),
        });
    }
    Ok((samples / per) as u32)
}

/// A gap given in seconds, as sectors; refused unless it is a whole number of 1/75 s frames
/// (to within a microsecond, so 2.0 or 0.04 pass and 2.01 does not).
pub fn gap_sectors_from_seconds(seconds: f64) -> Result<u32, Violation> {
    let sectors = seconds * f64::from(SECTORS_PER_SECOND);
    let whole = sectors.round();
    let tolerance = 1e-6 * f64::from(SECTORS_PER_SECOND);
    if !seconds.is_finite()
        || seconds < 0.0
        || (sectors - whole).abs() > tolerance
        || whole > f64::from(u32::MAX)
    {
        return Err(Violation::GapNotWholeFrames { seconds });
    }
    Ok(whole as u32)
}

/// Checks an ISRC (ISO 3901) and returns the 12 characters the PQ data carries.
///
/// Accepts the written form `CC-XXX-YY-NNNNN` and the compact `CCXXXYYNNNNN`, in either case:
/// CC is the country code (two letters), XXX the registrant (three letters or digits), YY the
/// year of reference (two digits), NNNNN the designation (five digits).
pub fn normalise_isrc(isrc: &str) -> Result<String, String> {
    let upper = isrc.trim().to_ascii_uppercase();
    let compact: String = if upper.len() == 15 {
        let b = upper.as_bytes();
        if b[2] != b'-' || b[6] != b'-' || b[9] != b'-' {
            return Err("hyphens belong after the country, registrant and year".into());
        }
        upper.chars().filter(|&c| c != '-').collect()
    } else {
        upper
    };
    if compact.len() != 12 || !compact.is_ascii() {
        return Err(format!(
            "it has {} characters; an ISRC has 12",
            compact.chars().filter(|&c| c != '-').count()
        ));
    }
    let b = compact.as_bytes();
    if !b[0..2].iter().all(u8::is_ascii_uppercase) {
        return Err("the country code (CC) must be two letters".into());
    }
    if !b[2..5]
        .iter()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err("the registrant code (XXX) must be three letters or digits".into());
    }
    if !b[5..7].iter().all(u8::is_ascii_digit) {
        return Err("the year (YY) must be two digits".into());
    }
    if !b[7..12].iter().all(u8::is_ascii_digit) {
        return Err("the designation code (NNNNN) must be five digits".into());
    }
    Ok(compact)
}

/// The written form of a 12-character ISRC, CC-XXX-YY-NNNNN.
pub fn format_isrc(compact: &str) -> String {
    if compact.len() != 12 || !compact.is_ascii() {
        return compact.to_string();
    }
    format!(
        "{}-{}-{}-{}",
        &compact[0..2],
        &compact[2..5],
        &compact[5..7],
        &compact[7..12]
    )
}

/// Checks a UPC/EAN (the disc's Media Catalogue Number): 13 digits whose last one is the
/// EAN-13 check digit (GS1 General Specifications: weights 1 and 3 alternating from the left,
/// the check digit brings the sum to a multiple of 10).
pub fn check_upc_ean(code: &str) -> Result<(), String> {
    let digits: Vec<u32> = code.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != code.chars().count() {
        return Err("only digits are allowed".into());
    }
    if digits.len() == 12 {
        return Err(
            "it has 12 digits: a disc carries the 13-digit EAN-13; write a 12-digit UPC-A with a \
             leading 0"
                .into(),
        );
    }
    if digits.len() != 13 {
        return Err(format!("it has {} digits; a UPC/EAN has 13", digits.len()));
    }
    let expected = ean13_check_digit(&digits[..12]);
    if digits[12] != expected {
        return Err(format!(
            "the check digit is {}, it should be {expected}",
            digits[12]
        ));
    }
    Ok(())
}

fn ean13_check_digit(first12: &[u32]) -> u32 {
    let sum: u32 = first12
        .iter()
        .enumerate()
        .map(|(i, d)| if i % 2 == 0 { *d } else { 3 * d })
        .sum();
    (10 - sum % 10) % 10
}

/// The programme's length in sectors: track 1's pre-gap, then every track's gap and audio,
/// each track filled to a whole sector. This is where the lead-out starts.
pub fn program_sectors(disc: &Disc) -> u64 {
    disc.tracks
        .iter()
        .map(|t| u64::from(t.pregap_sectors) + u64::from(sectors_for_samples(t.pcm.len())))
        .sum()
}

/// Every Red Book rule the disc breaks (empty when it is a valid audio CD).
pub fn violations(disc: &Disc) -> Vec<Violation> {
    let mut out = Vec::new();
    let count = disc.tracks.len();
    if count == 0 {
        out.push(Violation::NoTracks);
    }
    if count > MAX_TRACKS {
        out.push(Violation::TooManyTracks { count });
    }
    if let Some(first) = disc.tracks.first() {
        if first.pregap_sectors != FIRST_PREGAP_SECTORS {
            out.push(Violation::FirstPregap {
                sectors: first.pregap_sectors,
            });
        }
    }
    for (i, track) in disc.tracks.iter().enumerate() {
        let number = i + 1;
        if track.pcm.len() < MIN_TRACK_SAMPLES {
            out.push(Violation::TrackTooShort {
                track: number,
                seconds: track.pcm.len() as f64 / f64::from(SAMPLE_RATE_HZ),
            });
        }
        if let Some(isrc) = &track.isrc {
            if let Err(reason) = normalise_isrc(isrc) {
                out.push(Violation::BadIsrc {
                    track: number,
                    isrc: isrc.clone(),
                    reason,
                });
            }
        }
    }
    let sectors = program_sectors(disc);
    if sectors >= u64::from(MAX_PROGRAM.sectors()) {
        out.push(Violation::ProgramTooLong {
            length: Msf::from_sectors(sectors.min(u64::from(u32::MAX)) as u32),
        });
    }
    if let Some(upc) = &disc.upc_ean {
        if let Err(reason) = check_upc_ean(upc) {
            out.push(Violation::BadUpc {
                upc: upc.clone(),
                reason,
            });
        }
    }
    if let Err(v) = super::cdtext::encode(disc) {
        out.push(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msf_round_trips_and_formats() {
        for sectors in [0, 1, 74, 75, 150, 4499, 4500, 359_774] {
            let msf = Msf::from_sectors(sectors);
            assert_eq!(msf.sectors(), sectors);
            assert_eq!(Msf::parse_digits(&msf.digits()), Some(msf));
        }
        assert_eq!(Msf::from_sectors(150).to_string(), "00:02:00");
        assert_eq!(Msf::from_sectors(4 * 4500 + 3 * 75 + 7).digits(), "040307");
        assert_eq!(MAX_PROGRAM.sectors(), (79 * 60 + 57) * 75);
        assert_eq!(Msf::parse_digits("006000"), None, "60 seconds");
        assert_eq!(Msf::parse_digits("000075"), None, "75 frames");
    }

    #[test]
    fn sectors_round_up_to_hold_every_sample() {
        assert_eq!(sectors_for_samples(0), 0);
        assert_eq!(sectors_for_samples(1), 1);
        assert_eq!(sectors_for_samples(588), 1);
        assert_eq!(sectors_for_samples(589), 2);
        assert_eq!(SAMPLES_PER_SECTOR * 4, BYTES_PER_SECTOR);
    }

    #[test]
    fn gaps_must_be_whole_frames() {
        assert_eq!(gap_sectors_from_seconds(2.0), Ok(150));
        assert_eq!(gap_sectors_from_seconds(0.0), Ok(0));
        assert_eq!(gap_sectors_from_seconds(1.0 / 75.0), Ok(1));
        assert!(gap_sectors_from_seconds(2.01).is_err());
        assert!(gap_sectors_from_seconds(-1.0).is_err());
        assert!(gap_sectors_from_seconds(f64::NAN).is_err());
        assert_eq!(gap_sectors_from_samples(88_200), Ok(150));
        assert!(gap_sectors_from_samples(88_201).is_err());
    }

    #[test]
    fn isrc_forms() {
        assert_eq!(normalise_isrc("GB-XYZ-26-00001").unwrap(), "GBXYZ2600001");
        assert_eq!(normalise_isrc("gbxyz2600001").unwrap(), "GBXYZ2600001");
        assert_eq!(format_isrc("GBXYZ2600001"), "GB-XYZ-26-00001");
        for bad in [
            "GB-XYZ-26-0001",
            "G1-XYZ-26-00001",
            "GB-XY_-26-00001",
            "GB-XYZ-2A-00001",
            "GB-XYZ-26-0000A",
            "GBX-YZ-26-00001",
            "",
        ] {
            assert!(normalise_isrc(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn upc_check_digit() {
        // GS1's worked example, and a code whose check digit is 0.
        assert!(check_upc_ean("4006381333931").is_ok());
        assert!(check_upc_ean("0000000000000").is_ok());
        let wrong = check_upc_ean("4006381333932").unwrap_err();
        assert!(wrong.contains("should be 1"), "{wrong}");
        assert!(check_upc_ean("036000291452")
            .unwrap_err()
            .contains("12 digits"));
        assert!(check_upc_ean("40063813339X1").is_err());
    }
}
