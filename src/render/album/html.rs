//! `album_report.html`: one self-contained page for the album (the per-track report's inline
//! CSS, the loudness picture as a PNG data URI, no script, nothing fetched), drawn from the
//! same [`AlbumReportDocument`] as `album_report.json`.
//!
//! Every string from outside the program (titles, artists, paths, warnings) goes through
//! [`escape`]; numbers are formatted here.

use std::fmt::Write as _;

use super::report::{AlbumReportDocument, AlbumTrackRecord};
use super::spec::AlbumLoudness;
use crate::render::ddp::redbook::format_isrc;
use crate::render::report::html::{card, escape, file_name, num, png_data_uri, STYLE};
use crate::render::LOUDNESS_TOLERANCE_LU;

/// Extra rules for the album's table: the track table is wide, so it prints smaller.
const ALBUM_STYLE: &str = r#"
table.tracks { font-size: 13px; }
table.tracks td.title { min-width: 150px; }
.small { color: var(--muted); font-size: 12px; }
td.off { color: var(--bad); font-weight: 600; }
@media print { main { max-width: none; padding: 0; } h2 { break-after: avoid; }
               figure, tr { break-inside: avoid; } }
"#;

/// The whole page; `png` is the album's loudness picture.
pub fn render_album_html(doc: &AlbumReportDocument, png: &[u8]) -> String {
    let mut h = String::with_capacity(24_576 + png.len() * 4 / 3);
    let title = escape(&doc.title);
    let artist = escape(&doc.artist);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Album report: {title}</title>\n<style>{STYLE}{ALBUM_STYLE}</style>\n</head>\n\
         <body>\n<main>\n<header>\n<h1>{title}</h1>\n<p class=\"sub\">{artist}{}{} &middot; \
         album report &middot; {} &middot; {} {}</p>\n</header>\n",
        doc.year
            .as_ref()
            .map_or(String::new(), |y| format!(" &middot; {}", escape(y))),
        doc.upc_ean.as_ref().map_or(String::new(), |u| format!(
            " &middot; UPC/EAN {}",
            escape(u)
        )),
        escape(&doc.created_utc),
        escape(&doc.tool),
        escape(&doc.tool_version),
    );
    summary(&mut h, doc);
    if !doc.warnings.is_empty() {
        h.push_str("<div class=\"warnings\"><strong>Warnings</strong>\n<ul>\n");
        for w in &doc.warnings {
            let _ = writeln!(h, "<li>{}</li>", escape(w));
        }
        h.push_str("</ul></div>\n");
    }
    let _ = write!(
        h,
        "<h2>Loudness over the album</h2>\n<figure><img src=\"{}\" width=\"1100\" \
         height=\"540\" alt=\"Short-term loudness of the whole CD programme, tracks marked\">\n\
         <figcaption>Short-term loudness (3 s window, read every 100 ms) of the continuous CD \
         stream, gaps included, over CD time from the start of track 1&#39;s pre-gap. Each track \
         starts at its flag (index 01), with its integrated loudness as a black line across it; \
         gaps are shaded; the dashed line is the {:.1} LUFS target.</figcaption></figure>\n",
        png_data_uri(png),
        doc.target_lufs
    );
    tracks(&mut h, doc);
    files(&mut h, doc);
    let _ = write!(
        h,
        "<footer>Made by {} {}. Loudness and true peak per ITU-R BS.1770-4 and EBU R 128, \
         loudness range per EBU Tech 3342, each track measured on its delivered 44.1 kHz / \
         16-bit file as decoded back from disk; CD time in frames of 1/75 s (IEC 60908).\
         </footer>\n</main>\n</body>\n</html>\n",
        escape(&doc.tool),
        escape(&doc.tool_version),
    );
    h
}

fn summary(h: &mut String, doc: &AlbumReportDocument) {
    h.push_str("<section class=\"cards\">\n");
    let a = &doc.album;
    let (mode, mode_note) = match doc.loudness_mode {
        AlbumLoudness::Album => (
            "Album",
            "loudest track to the target, the others at their distance in the mixes",
        ),
        AlbumLoudness::Track => ("Per track", "every track to the target"),
    };
    card(h, "Loudness mode", mode, mode_note, None);
    card(
        h,
        "Target",
        &num(Some(doc.target_lufs), 1, "LUFS"),
        "integrated",
        None,
    );
    card(
        h,
        "Album loudness",
        &num(a.integrated_lufs, 1, "LUFS"),
        "integrated, the whole CD stream",
        None,
    );
    let ceiling = doc
        .tracks
        .iter()
        .map(|t| t.ceiling_dbtp)
        .fold(f64::INFINITY, f64::min);
    let (note, status) = match a.true_peak_dbtp {
        Some(tp) if ceiling.is_finite() => (
            format!("{:.2} dB under the {ceiling:.1} dBTP ceiling", ceiling - tp),
            Some(tp <= ceiling),
        ),
        _ => ("the whole CD stream".to_string(), None),
    };
    card(
        h,
        "Album true peak",
        &num(a.true_peak_dbtp, 2, "dBTP"),
        &note,
        status,
    );
    let spread = loudness_spread(&doc.tracks);
    card(
        h,
        "Loudness range",
        &num(a.loudness_range_lu, 1, "LU"),
        &spread.map_or(String::new(), |s| {
            format!("tracks' integrated loudness spans {s:.1} LU")
        }),
        None,
    );
    card(
        h,
        "Running time",
        &doc.lead_out.msf,
        &format!(
            "{} tracks, lead-out at {:.2} s",
            doc.tracks.len(),
            doc.lead_out.seconds
        ),
        None,
    );
    h.push_str("</section>\n");
}

/// A gain in a column headed "dB": signed, and no sign on nothing ("0.0", "+1.3", "-0.5").
fn signed(gain_db: f64) -> String {
    if gain_db.abs() < 0.05 {
        "0.0".to_string()
    } else {
        format!("{gain_db:+.1}")
    }
}

/// Loudest minus quietest track, LU.
fn loudness_spread(tracks: &[AlbumTrackRecord]) -> Option<f64> {
    let levels: Vec<f64> = tracks
        .iter()
        .filter_map(|t| t.measurement.integrated_lufs)
        .collect();
    let max = levels.iter().copied().reduce(f64::max)?;
    let min = levels.iter().copied().reduce(f64::min)?;
    Some(max - min)
}

fn tracks(h: &mut String, doc: &AlbumReportDocument) {
    h.push_str(
        "<h2>Tracks</h2>\n<p class=\"sub\">Start and gap in CD time (MM:SS:FF, frames of 1/75 s, \
         from the start of the disc); loudness, range, true peak and PLR of each delivered \
         44.1 kHz / 16-bit file as decoded back. Gain is the album file&#39;s nudge for the track; \
         mix &rarr; master the level mastering added.</p>\n\
         <div class=\"scroll\"><table class=\"tracks\">\n<tr><th>#</th><th>Title / ISRC</th>\
         <th>Start</th><th>Gap</th><th>Length</th><th>Target<br>LUFS</th><th>Gain<br>dB</th>\
         <th>Mix &rarr;<br>master dB</th><th>Integrated<br>LUFS</th><th>LRA<br>LU</th>\
         <th>True peak<br>dBTP</th><th>PLR<br>dB</th></tr>\n",
    );
    for t in &doc.tracks {
        let m = &t.measurement;
        let isrc = t.isrc.as_deref().map_or("no ISRC".to_string(), format_isrc);
        let off = m
            .integrated_lufs
            .is_some_and(|i| (i - t.target_lufs).abs() > LOUDNESS_TOLERANCE_LU);
        let over = m.true_peak_dbtp.is_some_and(|tp| tp > t.ceiling_dbtp);
        let class = |bad: bool| if bad { "n off" } else { "n" };
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"title\">{}<br><span class=\"small\">{}\
             </span></td><td class=\"n\">{}<br><span class=\"small\">{:.2} s</span></td>\
             <td class=\"n\">{}<br><span class=\"small\">{:.2} s</span></td>\
             <td class=\"n\">{}<br><span class=\"small\">{:.2} s</span></td>\
             <td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>\
             <td class=\"{}\">{}</td><td class=\"n\">{}</td><td class=\"{}\">{}</td>\
             <td class=\"n\">{}</td></tr>",
            t.number,
            escape(&t.title),
            escape(&isrc),
            t.start.msf,
            t.start.seconds,
            t.gap_before.msf,
            t.gap_before.seconds,
            t.cd_length.msf,
            t.cd_length.seconds,
            t.target_lufs,
            signed(t.gain_db),
            t.mix_to_master_db.map_or("\u{2013}".to_string(), signed),
            class(off),
            num(m.integrated_lufs, 1, ""),
            num(m.loudness_range_lu, 1, ""),
            class(over),
            num(m.true_peak_dbtp, 2, ""),
            num(m.plr_db, 1, ""),
        );
    }
    let a = &doc.album;
    let _ = writeln!(
        h,
        "<tr><td></td><td><strong>Album</strong><br><span class=\"small\">whole CD stream\
         </span></td><td></td><td></td><td class=\"n\">{}<br>\
         <span class=\"small\">{:.2} s</span></td><td></td><td></td><td></td>\
         <td class=\"n\"><strong>{}</strong></td><td class=\"n\">{}</td>\
         <td class=\"n\"><strong>{}</strong></td><td class=\"n\">{}</td></tr>",
        doc.lead_out.msf,
        doc.lead_out.seconds,
        num(a.integrated_lufs, 1, ""),
        num(a.loudness_range_lu, 1, ""),
        num(a.true_peak_dbtp, 2, ""),
        num(a.plr_db, 1, ""),
    );
    h.push_str("</table></div>\n");
}

fn files(h: &mut String, doc: &AlbumReportDocument) {
    h.push_str(
        "<h2>Files</h2>\n<div class=\"scroll\"><table>\n<tr><th>#</th><th>Mix</th>\
         <th>CD master (44.1 kHz / 16-bit)</th><th>Artist</th></tr>\n",
    );
    for t in &doc.tracks {
        let _ = writeln!(
            h,
            "<tr><td class=\"n\">{}</td><td class=\"file\">{}</td><td class=\"file\">{}</td>\
             <td>{}</td></tr>",
            t.number,
            escape(&file_name(&t.mix)),
            escape(&file_name(&t.file)),
            escape(&t.artist),
        );
    }
    h.push_str("</table></div>\n");
    let _ = writeln!(
        h,
        "<p class=\"sub\">DDP image: {} &middot; continuous CD stream: {}</p>",
        escape(&doc.ddp_dir),
        escape(&doc.cd_stream)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gains_are_signed_and_nothing_has_no_sign() {
        assert_eq!(signed(-0.01), "0.0");
        assert_eq!(signed(3.19), "+3.2");
        assert_eq!(signed(-0.5), "-0.5");
        let track = |lufs: Option<f64>| {
            let mut t = AlbumTrackRecord {
                number: 1,
                title: String::new(),
                artist: String::new(),
                isrc: None,
                mix: String::new(),
                file: String::new(),
                index0: None,
                start: super::super::report::CdTime::from_sectors(150),
                gap_before: super::super::report::CdTime::from_sectors(150),
                cd_length: super::super::report::CdTime::from_sectors(300),
                target_lufs: -14.0,
                gain_db: 0.0,
                mix_lufs: None,
                mix_to_master_db: None,
                ceiling_dbtp: -1.0,
                peak_limiting_db: None,
                measurement: crate::render::report::MeasurementRecord {
                    integrated_lufs: None,
                    loudness_range_lu: None,
                    true_peak_dbtp: None,
                    sample_peak_dbfs: None,
                    plr_db: None,
                    duration_s: 4.0,
                    sample_rate: 44_100,
                },
            };
            t.measurement.integrated_lufs = lufs;
            t
        };
        assert_eq!(
            loudness_spread(&[track(Some(-14.0)), track(None), track(Some(-15.5))]),
            Some(1.5)
        );
        assert_eq!(loudness_spread(&[track(None)]), None);
    }
}
