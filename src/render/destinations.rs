//! Which file goes where: the deliverables of one render matched to the places a release
//! goes (distributors, Bandcamp, video, a CD plant, promo), for the report and the terminal
//! summary alike, so an artist does not have to know what "48k_24bit" is for.
//!
//! The specifications are the services' published upload requirements as of 2026:
//! distributors (DistroKid, CD Baby, TuneCore) take 16- or 24-bit WAV at 44.1 kHz and pass
//! it to every store; Bandcamp takes 16/24-bit WAV, AIFF or FLAC and sells lossless
//! downloads from it; video (YouTube, broadcast, film) runs at 48 kHz; a CD plant takes a
//! DDP image; previews and promos go out as MP3.

use serde::{Deserialize, Serialize};

use super::formats::Format;

/// Integrated loudness above which Spotify asks for a lower true peak (its "Loudness
/// normalization" guidance for artists: masters louder than -14 LUFS should peak under
/// -2 dBTP, since its lossy encodes of a loud master add peaks of a dB or two).
pub const LOUD_MASTER_LUFS: f64 = -14.0;
/// The true peak Spotify asks loud masters to stay under, dBTP.
pub const LOUD_MASTER_PEAK_DBTP: f64 = -2.0;

/// One place a release goes and the file of this render to send there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    /// Where it goes, e.g. "Streaming (via a distributor)".
    pub destination: String,
    /// The file to upload (its name), or `None` when this render did not make one.
    pub file: Option<String>,
    /// Why that file, or how to get one.
    pub why: String,
}

/// A delivered file as this table needs it.
#[derive(Debug, Clone, Copy)]
pub struct Delivered<'a> {
    pub format: Format,
    pub path: &'a std::path::Path,
}

/// The table for the files of one render, in the order an artist releases: stores first.
pub fn which_file_where(files: &[Delivered<'_>]) -> Vec<Destination> {
    let name = |f: &Delivered<'_>| {
        f.path.file_name().map_or_else(
            || f.path.display().to_string(),
            |n| n.to_string_lossy().into(),
        )
    };
    let find = |wanted: &dyn Fn(Format) -> bool| files.iter().find(|f| wanted(f.format));
    let wav = |rate: u32, bits: u16| move |f: Format| f == Format::Wav { rate, bits };
    let row =
        |destination: &str, file: Option<&Delivered<'_>>, why: &str, missing: &str| Destination {
            destination: destination.to_string(),
            file: file.map(name),
            why: if file.is_some() { why } else { missing }.to_string(),
        };
    let streaming = find(&wav(44_100, 24)).or_else(|| find(&wav(44_100, 16)));
    let bandcamp = find(&|f| f == Format::Flac)
        .or_else(|| find(&wav(48_000, 24)))
        .or_else(|| find(&wav(44_100, 24)));
    vec![
        row(
            "Streaming (via a distributor)",
            streaming,
            "Distributors (DistroKid, CD Baby, TuneCore) take a 44.1 kHz WAV and pass it to \
             Spotify, Apple Music and the other stores; 24-bit where they accept it, 16-bit \
             where they ask for CD quality.",
            "No 44.1 kHz WAV was rendered; add wav44-24 or wav44-16 to --formats.",
        ),
        row(
            "Bandcamp and download stores",
            bandcamp,
            "Bandcamp sells lossless downloads from what you upload: give it 24-bit (FLAC or \
             WAV), it makes the MP3s and the 16-bit files itself.",
            "No 24-bit file was rendered; add wav48-24, wav44-24 or flac to --formats.",
        ),
        row(
            "Video (YouTube, film, broadcast)",
            find(&wav(48_000, 24)),
            "Video runs at 48 kHz; 24-bit keeps the editor's headroom.",
            "No 48 kHz / 24-bit WAV was rendered; add wav48-24 to --formats.",
        ),
        row(
            "CD plant",
            None,
            "",
            "Plants press from a DDP image with the album's running order, gaps and ISRCs: \
             master the release with --album (a single is an album of one track).",
        ),
        row(
            "Preview, promo, DJs",
            find(&|f| f == Format::Mp3),
            "MP3 at 320 kbps plays everywhere and mails easily; never upload it to a store.",
            "No MP3 was rendered; add mp3 to --formats.",
        ),
    ]
}

/// A note when a master is loud (above -14 LUFS) and peaks above -2 dBTP, which Spotify's
/// guidance asks loud masters not to; `None` when the master keeps to it.
/// A master within the renderer's target tolerance of -14 LUFS is at -14, not above it.
pub fn loud_master_note(integrated_lufs: f64, true_peak_dbtp: f64) -> Option<String> {
    let loud = integrated_lufs > LOUD_MASTER_LUFS + super::LOUDNESS_TOLERANCE_LU;
    (loud && true_peak_dbtp > LOUD_MASTER_PEAK_DBTP).then(|| {
        format!(
            "This master is {integrated_lufs:.1} LUFS, louder than {LOUD_MASTER_LUFS:.0} LUFS, and \
             peaks at {true_peak_dbtp:.1} dBTP. Spotify asks loud masters to peak under \
             {LOUD_MASTER_PEAK_DBTP:.0} dBTP, because its lossy encodes add peaks of a dB or two \
             that can distort on playback; render with --ceiling {LOUD_MASTER_PEAK_DBTP:.0} for \
             the streaming upload."
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::formats::DEFAULT_FORMATS;
    use std::path::Path;

    #[test]
    fn each_destination_gets_the_file_its_service_asks_for() {
        let names: Vec<(Format, String)> = DEFAULT_FORMATS
            .iter()
            .map(|&f| (f, f.file_name("Night Drive", 48_000)))
            .collect();
        let files: Vec<Delivered<'_>> = names
            .iter()
            .map(|(format, n)| Delivered {
                format: *format,
                path: Path::new(n),
            })
            .collect();
        let table = which_file_where(&files);
        let file = |i: usize| table[i].file.as_deref();
        assert_eq!(file(0), Some("Night Drive_44k1_24bit.wav"));
        assert_eq!(file(1), Some("Night Drive_48k_24bit.wav"));
        assert_eq!(file(2), Some("Night Drive_48k_24bit.wav"));
        assert_eq!(file(3), None, "a single render makes no DDP");
        assert!(table[3].why.contains("--album"));
        assert_eq!(file(4), Some("Night Drive_320k.mp3"));

        // Only a 16-bit CD-rate WAV: streaming gets it, the others say what to add.
        let only = [Delivered {
            format: DEFAULT_FORMATS[0],
            path: Path::new("x_44k1_16bit.wav"),
        }];
        let table = which_file_where(&only);
        assert_eq!(table[0].file.as_deref(), Some("x_44k1_16bit.wav"));
        assert!(table[1].file.is_none() && table[1].why.contains("--formats"));
        assert!(table[4].file.is_none() && table[4].why.contains("mp3"));
    }

    #[test]
    fn loud_masters_above_minus_2_dbtp_get_spotifys_note() {
        assert!(loud_master_note(-9.0, -1.0).unwrap().contains("-2 dBTP"));
        assert_eq!(loud_master_note(-9.0, -2.1), None);
        assert_eq!(
            loud_master_note(-14.0, -1.0),
            None,
            "-14 LUFS is not louder"
        );
        assert_eq!(
            loud_master_note(-13.95, -1.0),
            None,
            "on a -14 target, within tolerance"
        );
        assert!(loud_master_note(-13.8, -1.0).is_some());
        assert_eq!(loud_master_note(-16.0, -0.5), None);
    }
}
