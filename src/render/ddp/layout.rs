//! Where every track sits on the disc, in sectors from the start of the programme area
//! (A-time 00:00:00, the first sector of IMAGE.DAT).
//!
//! Each track's gap (index 00) comes first, silent; then its audio (index 01), exactly the
//! samples given, the last sector filled with silence. Filling each track to a whole sector
//! (rather than only the last one) is what keeps every track start on the frame grid without
//! moving a single sample of any track: Sonoris DDP Creator and cue2ddp likewise only start
//! tracks on frame boundaries. The cost is up to 587 samples (13 ms) of silence after a track
//! whose length is not a whole number of frames; a gapless album should cut its tracks on
//! frames, and the summary warns when it did not.

use super::redbook::{sectors_for_samples, FIRST_PREGAP_SECTORS, SAMPLES_PER_SECTOR};
use super::Disc;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackLayout {
    pub number: u8,
    /// Index 00, the start of the gap before the track; `None` when the track has no gap.
    pub index0: Option<u32>,
    /// Index 01, the first sector of the track's audio.
    pub index1: u32,
    /// Sample frames of the track's own audio.
    pub samples: usize,
    /// Sectors from index 01 to the next track's first index (or the lead-out).
    pub sectors: u32,
}

impl TrackLayout {
    /// Silent sample frames after the audio that fill its last sector.
    pub fn padding_samples(&self) -> usize {
        self.sectors as usize * SAMPLES_PER_SECTOR - self.samples
    }

    /// The sector after the track's last one.
    pub fn end(&self) -> u32 {
        self.index1 + self.sectors
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub tracks: Vec<TrackLayout>,
    /// The first sector of the lead-out: the programme's length, and IMAGE.DAT's in sectors.
    pub lead_out: u32,
}

/// The layout of a disc that passed validation (at most 99 tracks, under 80 minutes, so every
/// count fits its type).
pub fn layout(disc: &Disc) -> Layout {
    let mut at = 0u32;
    let mut tracks = Vec::with_capacity(disc.tracks.len());
    for (i, track) in disc.tracks.iter().enumerate() {
        let index0 = (track.pregap_sectors > 0).then_some(at);
        let index1 = at + track.pregap_sectors;
        let sectors = sectors_for_samples(track.pcm.len());
        tracks.push(TrackLayout {
            number: (i + 1) as u8,
            index0,
            index1,
            samples: track.pcm.len(),
            sectors,
        });
        at = index1 + sectors;
    }
    debug_assert!(tracks
        .first()
        .is_none_or(|t| t.index1 == FIRST_PREGAP_SECTORS));
    Layout {
        tracks,
        lead_out: at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::ddp::DiscTrack;

    fn track(samples: usize, pregap_sectors: u32) -> DiscTrack {
        DiscTrack {
            pcm: vec![[0, 0]; samples],
            title: String::new(),
            performer: String::new(),
            isrc: None,
            pregap_sectors,
        }
    }

    #[test]
    fn tracks_start_on_sectors_after_their_gaps() {
        let disc = Disc {
            title: String::new(),
            performer: String::new(),
            upc_ean: None,
            tracks: vec![
                track(588 * 300, 150),
                track(588 * 300 + 1, 0),
                track(1000, 75),
            ],
        };
        let l = layout(&disc);
        assert_eq!(l.tracks[0].index0, Some(0));
        assert_eq!(l.tracks[0].index1, 150);
        assert_eq!(l.tracks[0].sectors, 300);
        assert_eq!(l.tracks[0].padding_samples(), 0);
        assert_eq!(l.tracks[1].index0, None);
        assert_eq!(l.tracks[1].index1, 450);
        assert_eq!(l.tracks[1].sectors, 301);
        assert_eq!(l.tracks[1].padding_samples(), 587);
        assert_eq!(l.tracks[2].index0, Some(751));
        assert_eq!(l.tracks[2].index1, 826);
        assert_eq!(l.tracks[2].sectors, 2);
        assert_eq!(l.lead_out, 828);
    }
}
