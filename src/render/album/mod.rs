//! Album mastering: tracks in order, at consistent loudness, with chosen gaps, delivered per
//! track and as one continuous CD stream (a 44.1 kHz / 16-bit WAV of the whole programme and
//! a DDP 2.00 image for the plant).
//!
//! Every Red Book rule that can be checked from the album file and the mixes' lengths is
//! checked before any track is rendered, so a typo in an ISRC does not cost a render.

pub mod html;
pub mod plot;
pub mod report;
pub mod spec;

use std::path::{Path, PathBuf};

use super::ddp::{self, redbook, Disc, DiscTrack};
use super::decode::decode_file;
use super::encode::{wav::write_wav, PcmOptions};
use super::error::RenderError;
use super::formats::{Format, DEFAULT_FORMATS};
use super::staging::Staging;
use super::{render, Cancel, Fades, Metadata, RenderJob, RenderReport, Stage};
pub use report::AlbumReportDocument;
pub use spec::{Album, AlbumLoudness, AlbumTrack};

/// The CD master every album needs, whatever else was asked for.
pub const CD_FORMAT: Format = DEFAULT_FORMATS[0];
/// The whole programme as one 44.1 kHz / 16-bit WAV, in the album's output folder.
pub const CD_STREAM_NAME: &str = "album_44k1_16bit.wav";

/// What to render.
#[derive(Debug, Clone)]
pub struct AlbumJob {
    pub album: Album,
    pub out_dir: PathBuf,
    pub formats: Vec<Format>,
    pub force: bool,
    pub cancel: Cancel,
}

/// One track's place on the album and its render.
#[derive(Debug, Clone)]
pub struct AlbumTrackReport {
    pub number: usize,
    pub title: String,
    /// Where the track's audio starts on the CD (index 01), seconds.
    pub start_s: f64,
    pub target_lufs: f64,
    pub render: RenderReport,
}

#[derive(Debug, Clone)]
pub struct AlbumReport {
    pub tracks: Vec<AlbumTrackReport>,
    pub ddp: ddp::DdpSummary,
    pub cd_stream: PathBuf,
    pub loudness_png: PathBuf,
    /// `album_report.json` and `album_report.html`.
    pub report_json: PathBuf,
    pub report_html: PathBuf,
    /// What `album_report.json` holds.
    pub document: AlbumReportDocument,
    pub warnings: Vec<String>,
}

fn invalid(path: &Path, detail: String) -> RenderError {
    RenderError::Album {
        path: path.to_path_buf(),
        detail,
    }
}

pub use super::naming::track_folder;

/// Each track's loudness target: the album target for every track, or (album mode) the
/// loudest mix to the target and the others at their distance below it, plus their nudges.
pub fn track_targets(album: &Album, target_lufs: f64, mix_lufs: &[f64]) -> Vec<f64> {
    let loudest = mix_lufs
        .iter()
        .copied()
        .filter(|l| l.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    album
        .tracks
        .iter()
        .zip(mix_lufs)
        .map(|(t, &l)| match album.loudness {
            AlbumLoudness::Track => target_lufs + t.gain_db,
            AlbumLoudness::Album if l.is_finite() => target_lufs - (loudest - l) + t.gain_db,
            AlbumLoudness::Album => target_lufs + t.gain_db,
        })
        .collect()
}

/// Renders every track, then the CD stream and the DDP image.
pub fn render_album(
    job: &AlbumJob,
    progress: &mut dyn FnMut(usize, Stage, f64),
) -> Result<AlbumReport, RenderError> {
    let album = &job.album;
    // Red Book rules the album file alone decides, before any work.
    if album.tracks.len() > redbook::MAX_TRACKS {
        return Err(invalid(
            &job.out_dir,
            format!("{} tracks; a CD holds at most 99", album.tracks.len()),
        ));
    }
    for (i, t) in album.tracks.iter().enumerate() {
        if let Some(isrc) = &t.isrc {
            redbook::normalise_isrc(isrc)
                .map_err(|e| invalid(&t.file, format!("track {}: {e}", i + 1)))?;
        }
    }
    if let Some(upc) = &album.upc_ean {
        redbook::check_upc_ean(upc).map_err(|e| invalid(&job.out_dir, e))?;
    }
    let ddp_dir = job.out_dir.join("DDP");
    let album_files = [
        CD_STREAM_NAME,
        report::PNG_NAME,
        report::JSON_NAME,
        report::HTML_NAME,
    ];
    for path in std::iter::once(ddp_dir.clone()).chain(album_files.map(|n| job.out_dir.join(n))) {
        if path.exists() && !job.force {
            return Err(RenderError::OutputExists { path });
        }
    }

    // The mixes' loudness (album mode keeps their relative levels) and lengths.
    let mut mix_lufs = Vec::new();
    let mut total_s = 0.0;
    for (i, t) in album.tracks.iter().enumerate() {
        let audio = decode_file(&t.file)?;
        let seconds = audio.duration_s();
        if seconds < 4.0 {
            return Err(invalid(
                &t.file,
                format!("track {} lasts {seconds:.2} s; a CD track needs 4 s", i + 1),
            ));
        }
        total_s += seconds + t.gap_frames as f64 / spec::FRAMES_PER_SECOND;
        mix_lufs.push(super::measure::measure(&audio.channels, audio.sample_rate).integrated_lufs);
        job.cancel.check()?;
    }
    if total_s >= 79.0 * 60.0 + 57.0 {
        return Err(invalid(
            &job.out_dir,
            format!("the album runs {total_s:.1} s with its gaps; a CD holds under 79:57"),
        ));
    }
    let target = album.target_lufs.unwrap_or(super::DEFAULT_TARGET_LUFS);
    let targets = track_targets(album, target, &mix_lufs);

    let mut formats = job.formats.clone();
    if !formats.contains(&CD_FORMAT) {
        formats.push(CD_FORMAT);
    }
    let mut tracks = Vec::new();
    let mut warnings = Vec::new();
    for (i, (t, &track_target)) in album.tracks.iter().zip(&targets).enumerate() {
        let number = i + 1;
        let mut track_job = RenderJob::new(
            &t.file,
            job.out_dir.join(track_folder(number, &t.title)),
            t.settings,
        );
        track_job.force = job.force;
        track_job.formats = formats.clone();
        track_job.target_lufs = Some(track_target);
        track_job.fades = Fades {
            fade_in_ms: 0.0,
            fade_out_s: t.fade_out_s,
        };
        track_job.metadata = Metadata {
            title: Some(t.title.clone()),
            artist: Some(t.artist.clone()),
            album: Some(album.title.clone()),
            isrc: t.isrc.clone(),
            year: album.year.clone(),
        };
        track_job.cancel = job.cancel.clone();
        let report = render(&track_job, &mut |stage, f| progress(number, stage, f))?;
        warnings.extend(
            report
                .warnings
                .iter()
                .map(|w| format!("track {number}: {w}")),
        );
        tracks.push(AlbumTrackReport {
            number,
            title: t.title.clone(),
            start_s: 0.0,
            target_lufs: track_target,
            render: report,
        });
    }

    // The CD: each track's 44.1 kHz / 16-bit WAV exactly as delivered, read back from disk.
    let mut disc = Disc {
        title: album.title.clone(),
        performer: album.artist.clone(),
        upc_ean: album.upc_ean.clone(),
        tracks: Vec::new(),
    };
    for (t, report) in album.tracks.iter().zip(&tracks) {
        let wav = report
            .render
            .deliverables
            .iter()
            .find(|d| d.format == CD_FORMAT)
            .map(|d| d.path.clone())
            .ok_or_else(|| invalid(&t.file, "no 44.1 kHz / 16-bit master".into()))?;
        disc.tracks.push(DiscTrack {
            pcm: read_cd_pcm(&wav)?,
            title: t.title.clone(),
            performer: t.artist.clone(),
            isrc: t.isrc.clone(),
            pregap_sectors: if disc.tracks.is_empty() {
                redbook::FIRST_PREGAP_SECTORS
            } else {
                t.gap_frames
            },
        });
    }
    job.cancel.check()?;
    let summary =
        ddp::write_ddp(&disc, &ddp_dir, job.force).map_err(|e| invalid(&ddp_dir, e.to_string()))?;
    for (track, s) in tracks.iter_mut().zip(&summary.tracks) {
        track.start_s = s.index1.sectors() as f64 / spec::FRAMES_PER_SECOND;
    }

    warnings.extend(summary.warnings.iter().cloned());
    let files = write_album_files(job, &disc, &tracks, &summary, target, warnings)?;
    Ok(AlbumReport {
        tracks,
        ddp: summary,
        cd_stream: files.cd_stream,
        loudness_png: files.loudness_png,
        report_json: files.report_json,
        report_html: files.report_html,
        warnings: files.document.warnings.clone(),
        document: files.document,
    })
}

/// What [`write_album_files`] wrote.
struct AlbumFiles {
    cd_stream: PathBuf,
    loudness_png: PathBuf,
    report_json: PathBuf,
    report_html: PathBuf,
    document: AlbumReportDocument,
}

/// The album's own files, written into a staging folder and moved into the output folder
/// together once all are complete: the continuous CD stream, its loudness picture and the
/// album report. The stream is decoded back from the staged file and measured, as every
/// deliverable is.
fn write_album_files(
    job: &AlbumJob,
    disc: &Disc,
    tracks: &[AlbumTrackReport],
    summary: &ddp::DdpSummary,
    target_lufs: f64,
    warnings: Vec<String>,
) -> Result<AlbumFiles, RenderError> {
    let album = &job.album;
    let staging = Staging::create(&job.out_dir)?;
    // The whole programme as one stream: the DDP image's audio, gaps and all.
    let staged_stream = staging.path(CD_STREAM_NAME);
    write_wav(
        &staged_stream,
        &cd_stream_audio(disc),
        redbook::SAMPLE_RATE_HZ,
        PcmOptions::new(16),
        &Metadata {
            title: Some(album.title.clone()),
            artist: Some(album.artist.clone()),
            album: Some(album.title.clone()),
            isrc: None,
            year: album.year.clone(),
        },
    )?;
    job.cancel.check()?;
    let stream = decode_file(&staged_stream)?;
    let measured = super::measure::measure(&stream.channels, stream.sample_rate);
    // The stream starts at track 1's index 01, after the disc's 2-second pre-gap: shift its
    // readings to CD time so they line up with the track starts.
    let pregap_s = f64::from(redbook::FIRST_PREGAP_SECTORS) / spec::FRAMES_PER_SECOND;
    let series: Vec<(f64, f64)> =
        super::analysis::short_term_series(&stream.channels, stream.sample_rate)
            .into_iter()
            .map(|(t, l)| (t + pregap_s, l))
            .collect();
    drop(stream);
    job.cancel.check()?;

    let cd_stream = job.out_dir.join(CD_STREAM_NAME);
    let loudness_png = job.out_dir.join(report::PNG_NAME);
    let document = AlbumReportDocument::build(report::AlbumReportInput {
        album,
        target_lufs,
        tracks,
        ddp: summary,
        stream: &measured,
        cd_stream: &cd_stream,
        loudness_png: &loudness_png,
        warnings: &warnings,
        created_utc: super::report::utc_now_rfc3339(),
    });
    let png = plot::album_plot_png(&document, &series)?;
    super::report::write_atomic(&staging.path(report::PNG_NAME), &png)?;
    let mut json = document
        .to_json()
        .map_err(super::report::ReportError::from)?;
    json.push('\n');
    super::report::write_atomic(&staging.path(report::JSON_NAME), json.as_bytes())?;
    super::report::write_atomic(
        &staging.path(report::HTML_NAME),
        html::render_album_html(&document, &png).as_bytes(),
    )?;
    job.cancel.check()?;
    staging.commit(&job.out_dir)?;
    Ok(AlbumFiles {
        cd_stream,
        loudness_png,
        report_json: job.out_dir.join(report::JSON_NAME),
        report_html: job.out_dir.join(report::HTML_NAME),
        document,
    })
}

/// The 16-bit samples of a delivered CD master, untouched (the decoder's float is exact for
/// 16-bit integers).
fn read_cd_pcm(path: &Path) -> Result<Vec<[i16; 2]>, RenderError> {
    let audio = decode_file(path)?;
    let to_i16 = |x: f32| (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16;
    let left = &audio.channels[0];
    let right = audio.channels.get(1).unwrap_or(left);
    Ok(left
        .iter()
        .zip(right)
        .map(|(&l, &r)| [to_i16(l), to_i16(r)])
        .collect())
}

/// The disc's programme from the first track's audio on: each gap as silence, each track
/// padded to whole sectors as the image holds it.
fn cd_stream_audio(disc: &Disc) -> Vec<Vec<f32>> {
    let mut left = Vec::new();
    let mut right = Vec::new();
    for (i, t) in disc.tracks.iter().enumerate() {
        if i > 0 {
            let gap = t.pregap_sectors as usize * redbook::SAMPLES_PER_SECTOR;
            left.resize(left.len() + gap, 0.0);
            right.resize(right.len() + gap, 0.0);
        }
        for [l, r] in &t.pcm {
            left.push(*l as f32 / 32768.0);
            right.push(*r as f32 / 32768.0);
        }
        let padded =
            redbook::sectors_for_samples(t.pcm.len()) as usize * redbook::SAMPLES_PER_SECTOR;
        left.resize(left.len() + padded - t.pcm.len(), 0.0);
        right.resize(right.len() + padded - t.pcm.len(), 0.0);
    }
    vec![left, right]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn album_mode_keeps_the_mixes_apart_track_mode_does_not() {
        let text = "[album]\ntitle = \"A\"\nartist = \"B\"\n\n[[tracks]]\nfile = \"a\"\n\
                    title = \"1\"\n\n[[tracks]]\nfile = \"b\"\ntitle = \"2\"\ngain_db = 0.5\n";
        let mut album = spec::parse(Path::new("x.toml"), text, None).unwrap();
        assert_eq!(
            track_targets(&album, -14.0, &[-18.0, -21.0]),
            vec![-14.0, -16.5]
        );
        album.loudness = AlbumLoudness::Track;
        assert_eq!(
            track_targets(&album, -14.0, &[-18.0, -21.0]),
            vec![-14.0, -13.5]
        );
        assert_eq!(track_folder(3, "Night/Drive: II"), "03 Night_Drive_ II");
        assert_eq!(track_folder(4, "   "), "04");
    }
}
