//! Writing a DDP image: validate, stage, verify, then move into place.
//!
//! The image is written into a hidden folder beside the destination (same filesystem, so the
//! final rename is atomic), read back and checked, and renamed to its name only then. An error
//! or a failed check leaves the destination as it was; an existing image is replaced (only
//! with `force`) by a complete, verified one.

use std::path::{Path, PathBuf};

use super::checksum::{self, md5_bytes, md5_file};
use super::ddpms::MapPacket;
use super::error::DdpError;
use super::layout::{layout, Layout};
use super::redbook::{normalise_isrc, Msf, BYTES_PER_SECTOR, FIRST_PREGAP_SECTORS};
use super::{cdtext, ddpid, ddpms, image, pq, reader, validate, DdpSummary, Disc, TrackSummary};

/// Writes `disc` as a DDP 2.00 image into the folder `dir` (created; its parent too).
///
/// Refuses a `dir` that exists and is not empty unless `force`. Nothing is written when the
/// disc breaks a Red Book rule, and nothing is delivered unless every file reads back as meant.
pub fn write_ddp(disc: &Disc, dir: &Path, force: bool) -> Result<DdpSummary, DdpError> {
    validate(disc)?;
    check_target(dir, force)?;

    let layout = layout(disc);
    let isrcs: Vec<Option<String>> = disc
        .tracks
        .iter()
        .map(|t| t.isrc.as_deref().and_then(|i| normalise_isrc(i).ok()))
        .collect();
    let upc = disc.upc_ean.as_deref();
    let cd_text = cdtext::encode(disc).map_err(|v| DdpError::RedBook { problems: vec![v] })?;
    let pq_bytes = pq::encode(&pq::packets(&layout, &isrcs, upc));
    let mut map = Vec::new();
    if let Some(text) = &cd_text {
        map.push(MapPacket::cd_text(cdtext::FILE_NAME, text.len() as u64));
    }
    map.push(MapPacket::pq(pq::FILE_NAME, pq_bytes.len() as u64));
    map.push(MapPacket::audio(
        image::FILE_NAME,
        u64::from(layout.lead_out),
        u64::from(FIRST_PREGAP_SECTORS),
    ));
    let mut small: Vec<(&str, Vec<u8>)> = vec![
        (ddpid::FILE_NAME, ddpid::encode(upc).to_vec()),
        (ddpms::FILE_NAME, ddpms::encode(&map)),
    ];
    if let Some(text) = &cd_text {
        small.push((cdtext::FILE_NAME, text.clone()));
    }
    small.push((pq::FILE_NAME, pq_bytes));

    let staging = Staging::create(dir)?;
    for (name, bytes) in &small {
        write_synced(&staging.path(name), bytes)?;
    }
    let image_path = staging.path(image::FILE_NAME);
    image::write(&image_path, disc, &layout)?;

    // Checksums of the files as they are on disk, each compared with what was meant.
    let mut checksums = Vec::new();
    for (name, bytes) in &small {
        let path = staging.path(name);
        let on_disk = md5_file(&path)?;
        if on_disk != md5_bytes(bytes) {
            return Err(DdpError::Verification {
                path: dir.join(name),
                detail: "the file on disk differs from what was written".into(),
            });
        }
        checksums.push((name.to_string(), on_disk));
    }
    checksums.push((
        image::FILE_NAME.to_string(),
        image::verify(&image_path, disc, &layout)?,
    ));
    write_synced(
        &staging.path(checksum::FILE_NAME),
        checksum::encode(&checksums).as_bytes(),
    )?;

    // Read the image back as a plant's reader would and compare it with the disc.
    let back = reader::read(&staging.dir, false)?;
    check_read_back(&back, disc, &layout, &isrcs).map_err(|detail| DdpError::Verification {
        path: dir.to_path_buf(),
        detail,
    })?;

    staging.commit(dir, force)?;
    Ok(DdpSummary {
        dir: dir.to_path_buf(),
        tracks: layout
            .tracks
            .iter()
            .zip(&isrcs)
            .map(|(t, isrc)| TrackSummary {
                number: t.number,
                index0: t.index0.map(Msf::from_sectors),
                index1: Msf::from_sectors(t.index1),
                length: Msf::from_sectors(t.sectors),
                padding_samples: t.padding_samples(),
                isrc: isrc.clone(),
            })
            .collect(),
        lead_out: Msf::from_sectors(layout.lead_out),
        image_bytes: u64::from(layout.lead_out) * BYTES_PER_SECTOR as u64,
        cd_text_packs: cd_text.map_or(0, |t| t.len() / cdtext::PACK_LEN),
        checksums,
        warnings: warnings(disc, &layout),
    })
}

/// Padding that lands inside a gapless transition is silence nobody asked for.
fn warnings(disc: &Disc, layout: &Layout) -> Vec<String> {
    let mut out = Vec::new();
    for (t, next) in layout.tracks.iter().zip(disc.tracks.iter().skip(1)) {
        let pad = t.padding_samples();
        if pad > 0 && next.pregap_sectors == 0 {
            out.push(format!(
                "track {} is not a whole number of CD frames: {pad} samples ({:.1} ms) of \
                 silence fill its last frame and play before track {}, which follows without a \
                 gap; cut gapless tracks at multiples of 588 samples",
                t.number,
                pad as f64 * 1000.0 / 44_100.0,
                t.number + 1
            ));
        }
    }
    out
}

fn check_read_back(
    back: &reader::DdpImage,
    disc: &Disc,
    layout: &Layout,
    isrcs: &[Option<String>],
) -> Result<(), String> {
    if back.lead_out.sectors() != layout.lead_out {
        return Err(format!("the lead-out reads back at {}", back.lead_out));
    }
    if back.tracks.len() != layout.tracks.len() {
        return Err(format!("{} tracks read back", back.tracks.len()));
    }
    if back.upc_ean() != disc.upc_ean.as_deref() {
        return Err("the UPC/EAN does not read back".into());
    }
    for (((got, want), isrc), track) in back
        .tracks
        .iter()
        .zip(&layout.tracks)
        .zip(isrcs)
        .zip(&disc.tracks)
    {
        let same = got.index0.map(Msf::sectors) == want.index0
            && got.index1.sectors() == want.index1
            && got.sectors == want.sectors
            && got.isrc == *isrc
            && got.title == track.title
            && got.performer == track.performer;
        if !same {
            return Err(format!(
                "track {} does not read back as written",
                want.number
            ));
        }
    }
    Ok(())
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), DdpError> {
    use std::io::Write;
    let io = |e| DdpError::io(path, e);
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.sync_all().map_err(io)
}

fn is_empty_dir(dir: &Path) -> Result<bool, DdpError> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| DdpError::io(dir, e))?;
    Ok(entries.next().is_none())
}

/// The destination may be new or an empty folder; anything else needs `force`, and a file in
/// its place is never replaced by a folder.
fn check_target(dir: &Path, force: bool) -> Result<(), DdpError> {
    match std::fs::symlink_metadata(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(DdpError::io(dir, e)),
        Ok(m) if !m.is_dir() => Err(DdpError::io(
            dir,
            std::io::Error::other("exists and is not a folder"),
        )),
        Ok(_) if force || is_empty_dir(dir)? => Ok(()),
        Ok(_) => Err(DdpError::OutputExists {
            path: dir.to_path_buf(),
        }),
    }
}

/// `<parent>/.<name>.<what>-<pid>`: hidden, beside the destination, one per process.
fn sibling(dir: &Path, what: &str) -> Result<PathBuf, DdpError> {
    let name = dir.file_name().ok_or_else(|| {
        DdpError::io(
            dir,
            std::io::Error::other("the image needs a folder name of its own"),
        )
    })?;
    let parent = dir.parent().unwrap_or(Path::new(""));
    let mut hidden = std::ffi::OsString::from(".");
    hidden.push(name);
    hidden.push(format!(".{what}-{}", std::process::id()));
    Ok(parent.join(hidden))
}

struct Staging {
    dir: PathBuf,
    committed: bool,
}

impl Staging {
    fn create(dest: &Path) -> Result<Self, DdpError> {
        let dir = sibling(dest, "lathe-staging")?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| DdpError::io(parent, e))?;
        }
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(|e| DdpError::io(&dir, e))?;
        }
        std::fs::create_dir(&dir).map_err(|e| DdpError::io(&dir, e))?;
        Ok(Self {
            dir,
            committed: false,
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Moves the staged folder to `dest`, replacing what is there only if `force` or empty.
    fn commit(mut self, dest: &Path, force: bool) -> Result<(), DdpError> {
        check_target(dest, force)?;
        let rename =
            |from: &Path, to: &Path| std::fs::rename(from, to).map_err(|e| DdpError::io(to, e));
        if dest.exists() {
            let old = sibling(dest, "lathe-replaced")?;
            rename(dest, &old)?;
            if let Err(e) = rename(&self.dir, dest) {
                let _ = std::fs::rename(&old, dest);
                return Err(e);
            }
            // The new image is in place; a leftover old copy is only clutter.
            let _ = std::fs::remove_dir_all(&old);
        } else {
            rename(&self.dir, dest)?;
        }
        self.committed = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
