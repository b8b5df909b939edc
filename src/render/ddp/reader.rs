//! Reading a DDP 2.00 audio image back: its identifier, map, PQ descriptor, CD-TEXT and
//! checksums, and the audio of each track.
//!
//! A reader starts from DDPMS, as the public readers do (suntriprecords/ddpLib
//! `AbstractMapPacketLoader`, XLD's `XLDDDPParser`, summarised in ddp-reverse-eng
//! `docs/research.md` section 3): the `D0` stream of CD mode `DA` is the audio, the `S0`
//! stream `PQ DESCR` the table of contents, an `S0` stream `CDTEXT` the text. Only DDPID and
//! DDPMS have fixed names. A PQ time is an address in the audio stream counted from its first
//! sector (DDPMS DSS 0 or blank), so a track's audio is at `time × 2352` bytes in the image.

use std::path::{Path, PathBuf};

use super::cdtext::{self, CdText};
use super::checksum::{self, ChecksumCheck};
use super::ddpid::{self, DdpId};
use super::ddpms::{self, MapPacket};
use super::error::DdpError;
use super::image;
use super::pq::{self, PqPacket, PqTrack};
use super::redbook::{Msf, BYTES_PER_SECTOR};

/// A track as the PQ descriptor and CD-TEXT describe it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageTrack {
    pub number: u8,
    /// Index 00, the start of the gap before the track, when it has one.
    pub index0: Option<Msf>,
    /// Index 01, where the track's audio starts.
    pub index1: Msf,
    /// Sectors from index 01 to the next track's first index (or the lead-out): the track's
    /// audio and the silence that fills its last sector.
    pub sectors: u32,
    /// 12 characters, as the PQ data carries it.
    pub isrc: Option<String>,
    /// From CD-TEXT; empty when it has none.
    pub title: String,
    pub performer: String,
}

impl ImageTrack {
    pub fn pregap_sectors(&self) -> u32 {
        self.index0
            .map_or(0, |i0| self.index1.sectors() - i0.sectors())
    }

    pub fn length(&self) -> Msf {
        Msf::from_sectors(self.sectors)
    }
}

/// A DDP image as read from its folder.
#[derive(Debug, Clone)]
pub struct DdpImage {
    pub dir: PathBuf,
    pub id: DdpId,
    pub map: Vec<MapPacket>,
    pub image_file: String,
    pub pq_file: String,
    pub cd_text_file: Option<String>,
    pub pq: Vec<PqPacket>,
    pub tracks: Vec<ImageTrack>,
    /// Where the lead-out starts; IMAGE.DAT ends there.
    pub lead_out: Msf,
    pub cd_text: Option<CdText>,
    /// Every line of CHECKSUM.MD5 checked against its file; `None` when there is no such file.
    pub checksums: Option<Vec<ChecksumCheck>>,
}

impl DdpImage {
    /// The disc's UPC/EAN as the PQ data will put it on the disc (the lead-in packet), or, if
    /// the PQ data has none, DDPID's.
    pub fn upc_ean(&self) -> Option<&str> {
        self.pq
            .iter()
            .find_map(|p| p.upc_ean.as_deref())
            .or(self.id.upc_ean.as_deref())
    }

    pub fn track(&self, number: u8) -> Option<&ImageTrack> {
        self.tracks.iter().find(|t| t.number == number)
    }

    /// The sample frames of a track from index 01 to the next track's first index: its audio,
    /// then the silence that fills its last sector.
    pub fn track_samples(&self, number: u8) -> Result<Vec<[i16; 2]>, DdpError> {
        let track = self
            .track(number)
            .ok_or_else(|| DdpError::malformed(&self.dir, format!("there is no track {number}")))?;
        image::read_samples(
            &self.dir.join(&self.image_file),
            track.index1.sectors(),
            track.sectors,
        )
    }

    /// Whether CHECKSUM.MD5 exists and every file matches it.
    pub fn checksums_ok(&self) -> bool {
        self.checksums
            .as_ref()
            .is_some_and(|c| !c.is_empty() && c.iter().all(ChecksumCheck::ok))
    }
}

/// Reads the DDP image in `dir` and checks every file CHECKSUM.MD5 lists.
pub fn read_ddp(dir: &Path) -> Result<DdpImage, DdpError> {
    read(dir, true)
}

fn read_file(path: &Path) -> Result<Vec<u8>, DdpError> {
    std::fs::read(path).map_err(|e| DdpError::io(path, e))
}

/// The one map packet that `pick` selects; an error names what is missing or doubled.
fn one<'a>(
    map: &'a [MapPacket],
    path: &Path,
    what: &str,
    pick: impl Fn(&MapPacket) -> bool,
) -> Result<Option<&'a MapPacket>, DdpError> {
    let mut found = map.iter().filter(|p| pick(p));
    let first = found.next();
    if found.next().is_some() {
        return Err(DdpError::malformed(
            path,
            format!("more than one {what} stream; this reader reads one"),
        ));
    }
    Ok(first)
}

pub(crate) fn read(dir: &Path, check_sums: bool) -> Result<DdpImage, DdpError> {
    let id_path = dir.join(ddpid::FILE_NAME);
    let id = ddpid::decode(&read_file(&id_path)?).map_err(|e| DdpError::malformed(&id_path, e))?;
    if id.disc_type.as_deref().is_some_and(|t| t != "CD") {
        return Err(DdpError::malformed(&id_path, "not a CD image"));
    }

    let ms_path = dir.join(ddpms::FILE_NAME);
    let map = ddpms::decode(&read_file(&ms_path)?).map_err(|e| DdpError::malformed(&ms_path, e))?;
    let audio = one(&map, &ms_path, "audio (D0, DA)", MapPacket::is_audio)?
        .ok_or_else(|| DdpError::malformed(&ms_path, "no audio stream (D0, CD mode DA)"))?;
    if audio.start.is_some_and(|s| s != 0) {
        return Err(DdpError::malformed(
            &ms_path,
            "the audio stream does not start at sector 0 (DSS)",
        ));
    }
    let pq_map = one(&map, &ms_path, "PQ DESCR", |p| {
        p.is_subcode(ddpms::PQ_DESCRIPTOR)
    })?
    .ok_or_else(|| DdpError::malformed(&ms_path, "no PQ descriptor stream (S0, PQ DESCR)"))?;
    let text_map = one(&map, &ms_path, "CDTEXT", |p| p.is_subcode(ddpms::CD_TEXT))?;

    let image_path = dir.join(&audio.file_name);
    let image_bytes = std::fs::metadata(&image_path)
        .map_err(|e| DdpError::io(&image_path, e))?
        .len();
    let sector = BYTES_PER_SECTOR as u64;
    if image_bytes % sector != 0 || image_bytes / sector != audio.length {
        return Err(DdpError::malformed(
            &image_path,
            format!(
                "{image_bytes} bytes; DDPMS gives {} sectors of 2352 bytes",
                audio.length
            ),
        ));
    }

    let pq_path = dir.join(&pq_map.file_name);
    let pq_bytes = read_file(&pq_path)?;
    if pq_bytes.len() as u64 != pq_map.length {
        return Err(DdpError::malformed(
            &pq_path,
            format!("{} bytes; DDPMS gives {}", pq_bytes.len(), pq_map.length),
        ));
    }
    let pq = pq::decode(&pq_bytes).map_err(|e| DdpError::malformed(&pq_path, e))?;
    let (mut tracks, lead_out) = tracks_of(&pq).map_err(|e| DdpError::malformed(&pq_path, e))?;
    if u64::from(lead_out.sectors()) != audio.length {
        return Err(DdpError::malformed(
            &pq_path,
            format!(
                "the lead-out is at {lead_out} but the audio ends at {}",
                Msf::from_sectors(audio.length as u32)
            ),
        ));
    }

    let cd_text = match text_map {
        None => None,
        Some(m) => {
            let path = dir.join(&m.file_name);
            let text =
                cdtext::decode(&read_file(&path)?).map_err(|e| DdpError::malformed(&path, e))?;
            for (i, t) in tracks.iter_mut().enumerate() {
                t.title = text.track_titles.get(i).cloned().unwrap_or_default();
                t.performer = text.track_performers.get(i).cloned().unwrap_or_default();
            }
            Some(text)
        }
    };

    let sums_path = dir.join(checksum::FILE_NAME);
    let checksums = if check_sums && sums_path.exists() {
        let text = std::fs::read_to_string(&sums_path).map_err(|e| DdpError::io(&sums_path, e))?;
        let entries = checksum::decode(&text).map_err(|e| DdpError::malformed(&sums_path, e))?;
        Some(checksum::verify(dir, &entries))
    } else {
        None
    };

    Ok(DdpImage {
        dir: dir.to_path_buf(),
        id,
        image_file: audio.file_name.clone(),
        pq_file: pq_map.file_name.clone(),
        cd_text_file: text_map.map(|m| m.file_name.clone()),
        map,
        pq,
        tracks,
        lead_out,
        cd_text,
        checksums,
    })
}

/// The tracks of a PQ packet sequence and where the lead-out starts.
fn tracks_of(pq: &[PqPacket]) -> Result<(Vec<ImageTrack>, Msf), String> {
    let mut tracks: Vec<ImageTrack> = Vec::new();
    // Sector of each track's first packet, where the previous track's audio ends.
    let mut firsts: Vec<u32> = Vec::new();
    let mut lead_out = None;
    let mut last_time = 0;
    for p in pq {
        if p.time.sectors() < last_time {
            return Err(format!("time {} goes backwards", p.time));
        }
        last_time = p.time.sectors();
        match p.track {
            PqTrack::LeadIn => {}
            PqTrack::LeadOut => match lead_out {
                None => lead_out = Some(p.time),
                Some(t) if t == p.time => {} // written twice by convention
                Some(t) => return Err(format!("two lead-outs, at {t} and {}", p.time)),
            },
            PqTrack::Track(n) => {
                if lead_out.is_some() {
                    return Err(format!("track {n} after the lead-out"));
                }
                let current = tracks.last().map(|t| t.number);
                if current != Some(n) {
                    let expected = current.map_or(1, |c| c + 1);
                    if n != expected {
                        return Err(format!("track {n} where track {expected} should be"));
                    }
                    if let Some(prev) = tracks.last() {
                        if prev.sectors == u32::MAX {
                            return Err(format!("track {} has no index 01", prev.number));
                        }
                    }
                    firsts.push(p.time.sectors());
                    tracks.push(ImageTrack {
                        number: n,
                        index0: None,
                        index1: p.time,
                        sectors: u32::MAX, // no index 01 yet
                        isrc: None,
                        title: String::new(),
                        performer: String::new(),
                    });
                }
                let t = tracks.last_mut().expect("pushed above");
                if t.isrc.is_none() {
                    t.isrc = p.isrc.clone();
                }
                match p.index {
                    0 if t.sectors == u32::MAX && t.index0.is_none() => t.index0 = Some(p.time),
                    1 if t.sectors == u32::MAX => {
                        t.index1 = p.time;
                        t.sectors = 0;
                    }
                    i if i >= 2 && t.sectors != u32::MAX => {} // further index points
                    i => return Err(format!("track {n}: index {i:02} out of order")),
                }
            }
        }
    }
    let lead_out = lead_out.ok_or("no lead-out (AA)")?;
    if tracks.is_empty() {
        return Err("no tracks".into());
    }
    let ends: Vec<u32> = firsts
        .iter()
        .skip(1)
        .copied()
        .chain([lead_out.sectors()])
        .collect();
    for (t, end) in tracks.iter_mut().zip(ends) {
        if t.sectors == u32::MAX {
            return Err(format!("track {} has no index 01", t.number));
        }
        t.sectors = end - t.index1.sectors();
    }
    Ok((tracks, lead_out))
}
