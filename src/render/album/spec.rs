//! The album file (`album.toml`): the tracks in order, what each needs, and the album's own
//! metadata. Paths inside it are relative to the file.
//!
//! ```toml
//! [album]
//! title = "Elements"
//! artist = "The Band"
//! upc = "5012345678900"          # UPC/EAN, 13 digits, for the CD's lead-in
//! year = "2026"
//! loudness = "album"             # or "track": every track to the target
//! target_lufs = -14.0            # the loudest track lands here in album mode
//! settings = "master.toml"       # optional: the chain settings every track starts from
//!
//! [[tracks]]
//! file = "01 francium.flac"
//! title = "Francium"
//! isrc = "GB-XYZ-26-00001"
//! gap_s = 2.0                    # silence before the track (the first always gets 2 s)
//! fade_out_s = 0.0
//! gain_db = 0.0                  # album mode: nudge this track against the others
//! [tracks.settings]              # optional overrides of the chain settings
//! limiter = { release_ms = 80.0 }
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::dsp::ChainSettings;

/// How the tracks' loudness is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum AlbumLoudness {
    /// Every track to the target.
    Track,
    /// The loudest track to the target; the others keep their level relative to it, as the
    /// mixes have it, plus each track's `gain_db`.
    #[default]
    Album,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumFile {
    album: AlbumSection,
    tracks: Vec<TrackSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct AlbumSection {
    title: String,
    artist: String,
    #[serde(default)]
    upc: Option<String>,
    #[serde(default)]
    year: Option<String>,
    #[serde(default)]
    loudness: AlbumLoudness,
    #[serde(default)]
    target_lufs: Option<f64>,
    #[serde(default)]
    settings: Option<PathBuf>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct TrackSection {
    file: PathBuf,
    title: String,
    #[serde(default)]
    artist: Option<String>,
    #[serde(default)]
    isrc: Option<String>,
    #[serde(default)]
    gap_s: Option<f64>,
    #[serde(default)]
    fade_out_s: f64,
    #[serde(default)]
    gain_db: f64,
    #[serde(default)]
    settings: Option<toml::Table>,
}

/// One track as the album file describes it, paths resolved and settings merged.
#[derive(Debug, Clone)]
pub struct AlbumTrack {
    pub file: PathBuf,
    pub title: String,
    pub artist: String,
    pub isrc: Option<String>,
    /// Silence before the track, in CD frames (1/75 s).
    pub gap_frames: u32,
    pub fade_out_s: f64,
    pub gain_db: f64,
    pub settings: ChainSettings,
}

#[derive(Debug, Clone)]
pub struct Album {
    pub title: String,
    pub artist: String,
    pub upc_ean: Option<String>,
    pub year: Option<String>,
    pub loudness: AlbumLoudness,
    pub target_lufs: Option<f64>,
    pub tracks: Vec<AlbumTrack>,
}

/// CD frames (sectors) per second, Red Book.
pub const FRAMES_PER_SECOND: f64 = 75.0;
/// The pre-gap every disc starts with, and the default gap between tracks: 2 s.
pub const DEFAULT_GAP_S: f64 = 2.0;

#[derive(Debug, thiserror::Error)]
pub enum AlbumError {
    #[error("{path}: {detail}")]
    Invalid { path: PathBuf, detail: String },
}

fn invalid(path: &Path, detail: impl Into<String>) -> AlbumError {
    AlbumError::Invalid {
        path: path.to_path_buf(),
        detail: detail.into(),
    }
}

/// Merges `over` into `base`, table by table: a key in `over` replaces the same key in
/// `base`, and nested tables merge.
fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (key, value) in over {
        match (base.get_mut(key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(key.clone(), value.clone());
            }
        }
    }
}

/// Parses and checks an album file; `base_settings` is what `[album] settings` names, read
/// by the caller (None: the defaults).
pub fn parse(path: &Path, text: &str, base: Option<&ChainSettings>) -> Result<Album, AlbumError> {
    let file: AlbumFile = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = base.copied().unwrap_or_default();
    let base_table: toml::Table =
        toml::from_str(&base.to_toml()).map_err(|e| invalid(path, e.to_string()))?;
    if file.tracks.is_empty() {
        return Err(invalid(path, "the album has no [[tracks]]"));
    }
    let mut tracks = Vec::with_capacity(file.tracks.len());
    for (i, t) in file.tracks.into_iter().enumerate() {
        let n = i + 1;
        let settings = match &t.settings {
            None => base,
            Some(over) => {
                let mut table = base_table.clone();
                merge(&mut table, over);
                ChainSettings::from_toml(&toml::to_string(&table).unwrap_or_default())
                    .map_err(|e| invalid(path, format!("track {n} settings: {e}")))?
            }
        };
        let gap_s = t.gap_s.unwrap_or(DEFAULT_GAP_S);
        let frames = gap_s * FRAMES_PER_SECOND;
        if !(0.0..=3600.0).contains(&gap_s) || (frames - frames.round()).abs() > 1e-6 {
            return Err(invalid(
                path,
                format!(
                    "track {n}: gap_s = {gap_s} is not a whole number of CD frames (1/75 s); \
                     try {:.4}",
                    frames.round() / FRAMES_PER_SECOND
                ),
            ));
        }
        if !t.fade_out_s.is_finite() || t.fade_out_s < 0.0 {
            return Err(invalid(path, format!("track {n}: fade_out_s must be >= 0")));
        }
        if !t.gain_db.is_finite() || t.gain_db.abs() > 24.0 {
            return Err(invalid(
                path,
                format!("track {n}: gain_db must be within ±24 dB"),
            ));
        }
        tracks.push(AlbumTrack {
            file: dir.join(&t.file),
            title: t.title,
            artist: t.artist.unwrap_or_else(|| file.album.artist.clone()),
            isrc: t.isrc,
            gap_frames: frames.round() as u32,
            fade_out_s: t.fade_out_s,
            gain_db: t.gain_db,
            settings,
        });
    }
    Ok(Album {
        title: file.album.title,
        artist: file.album.artist,
        upc_ean: file.album.upc,
        year: file.album.year,
        loudness: file.album.loudness,
        target_lufs: file.album.target_lufs,
        tracks,
    })
}

/// The settings file the album names, if any, resolved against the album file's folder.
pub fn settings_path(path: &Path, text: &str) -> Result<Option<PathBuf>, AlbumError> {
    let file: AlbumFile = toml::from_str(text).map_err(|e| invalid(path, e.to_string()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    Ok(file.album.settings.map(|s| dir.join(s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALBUM: &str = r#"
[album]
title = "Elements"
artist = "The Band"
upc = "5012345678900"
loudness = "album"

[[tracks]]
file = "a.flac"
title = "One"
isrc = "GB-XYZ-26-00001"

[[tracks]]
file = "b.flac"
title = "Two"
artist = "Guest"
gap_s = 1.0
gain_db = -1.5
[tracks.settings]
limiter = { release_ms = 80.0 }
"#;

    #[test]
    fn parses_merges_and_resolves() {
        let mut base = ChainSettings::default();
        base.limiter.ceiling_dbtp = -2.0;
        let album = parse(Path::new("/music/album.toml"), ALBUM, Some(&base)).unwrap();
        assert_eq!(album.tracks.len(), 2);
        let [a, b] = &album.tracks[..] else { panic!() };
        assert_eq!(a.file, Path::new("/music/a.flac"));
        assert_eq!((a.gap_frames, b.gap_frames), (150, 75));
        assert_eq!(
            (a.artist.as_str(), b.artist.as_str()),
            ("The Band", "Guest")
        );
        // The override changes one field and keeps the album's base for the rest.
        assert_eq!(b.settings.limiter.release_ms, 80.0);
        assert_eq!(b.settings.limiter.ceiling_dbtp, -2.0);
        assert_eq!(a.settings, base);
        assert_eq!(album.loudness, AlbumLoudness::Album);
    }

    #[test]
    fn refuses_by_name_what_a_cd_cannot_hold() {
        let p = Path::new("album.toml");
        let e = parse(p, &ALBUM.replace("gap_s = 1.0", "gap_s = 1.01"), None).unwrap_err();
        assert!(
            e.to_string().contains("track 2") && e.to_string().contains("CD frames"),
            "{e}"
        );
        let e = parse(
            p,
            &ALBUM.replace("release_ms = 80.0", "release_ms = 8000.0"),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("limiter.release_ms"), "{e}");
        let e = parse(
            p,
            &ALBUM.replace("title = \"One\"", "titel = \"One\""),
            None,
        )
        .unwrap_err();
        assert!(e.to_string().contains("album.toml"), "{e}");
        let e = parse(
            p,
            "[album]\ntitle = \"x\"\nartist = \"y\"\ntracks = []\n",
            None,
        );
        assert!(e.is_err());
    }
}
