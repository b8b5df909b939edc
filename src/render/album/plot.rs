//! The album's loudness picture: the short-term loudness of the whole CD programme over CD
//! time, each track's span marked and titled with its integrated loudness and true peak, the
//! gaps shaded, the target as a dashed line. Drawn for print: dark on white, every mark still
//! distinct in grey (the curve mid blue, the track levels black, the target dashed red).
//!
//! Built from the per-track report's plotting helpers (`report::plot`), in a taller picture:
//! the band between the header and the plot holds the track markers.

use plotters::prelude::*;

use super::report::AlbumReportDocument;
use crate::render::report::plot::{
    clamped, configure_mesh, draw_curve, draw_header, font, level_range, minutes_seconds, plot_err,
    px, render_png_sized, time_step_s, Curve, Root, StepAxis, HEADER_PX, INK, MASTER, TARGET,
};
use crate::render::report::ReportError;

/// Size of the picture as stored, in pixels: as wide as the per-track plots (the page's
/// column), taller for the band of track markers.
pub const ALBUM_PLOT_WIDTH: u32 = 1100;
pub const ALBUM_PLOT_HEIGHT: u32 = 540;

/// The header's second line (the album's figures) sits this far below the first.
const SUBTITLE_PX: u32 = 20;
/// Height of the band of track markers between the header and the plot.
const MARKER_BAND_PX: u32 = 46;
/// The tint of every other track's span, so neighbouring tracks read apart.
const LANE: RGBColor = RGBColor(0xf2, 0xf4, 0xf7);
/// Gaps (silence before a track's index 01).
const GAP: RGBColor = RGBColor(0xd3, 0xd7, 0xdd);
const MUTED: RGBColor = RGBColor(0x5d, 0x65, 0x70);

/// The two lines above the plot: what the picture is (left of the legend) and the album's
/// figures, so a printed page stands on its own.
#[derive(Debug, Clone, PartialEq)]
pub struct Heading {
    pub title: String,
    pub subtitle: String,
}

/// One track's place on the disc and the figures its marker shows.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackMark<'a> {
    pub number: usize,
    pub title: &'a str,
    /// Index 00 (the start of the gap before the track), seconds of CD time; equal to
    /// `start_s` for a gapless start.
    pub gap_start_s: f64,
    /// Index 01, seconds of CD time.
    pub start_s: f64,
    /// The end of the track's last CD frame, seconds of CD time.
    pub end_s: f64,
    pub integrated_lufs: Option<f64>,
    pub true_peak_dbtp: Option<f64>,
}

/// The figures under a track's title: "-14.0 LUFS · -1.0 dBTP".
fn figures(t: &TrackMark<'_>) -> String {
    let part = |v: Option<f64>, unit: &str, decimals: usize| {
        v.map_or(format!("\u{2013} {unit}"), |v| {
            format!("{v:.decimals$} {unit}")
        })
    };
    format!(
        "{} \u{b7} {}",
        part(t.integrated_lufs, "LUFS", 1),
        part(t.true_peak_dbtp, "dBTP", 1)
    )
}

/// `text` cut to fit `width` pixels in `style`, with an ellipsis when cut; `None` when not
/// even the ellipsis fits.
fn fit(root: &Root<'_>, text: &str, style: &TextStyle<'_>, width: i32) -> Option<String> {
    let w = |s: &str| {
        root.estimate_text_size(s, style)
            .map_or(i32::MAX, |(w, _)| w as i32)
    };
    if w(text) <= width {
        return Some(text.to_string());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().collect::<String>().trim_end().to_string() + "\u{2026}";
        if w(&cut) <= width {
            return Some(cut);
        }
    }
    None
}

/// The album's picture from its report: `series` is the CD stream's short-term loudness as
/// `(cd_time_s, lufs)`.
pub fn album_plot_png(
    doc: &AlbumReportDocument,
    series: &[(f64, f64)],
) -> Result<Vec<u8>, ReportError> {
    let marks: Vec<TrackMark<'_>> = doc
        .tracks
        .iter()
        .map(|t| TrackMark {
            number: t.number,
            title: &t.title,
            gap_start_s: t.index0.as_ref().map_or(t.start.seconds, |i| i.seconds),
            start_s: t.start.seconds,
            end_s: t.start.seconds + t.cd_length.seconds,
            integrated_lufs: t.measurement.integrated_lufs,
            true_peak_dbtp: t.measurement.true_peak_dbtp,
        })
        .collect();
    let a = &doc.album;
    let value = |v: Option<f64>, decimals: usize| {
        v.map_or("\u{2013}".to_string(), |v| format!("{v:.decimals$}"))
    };
    let heading = Heading {
        title: format!("{}: loudness over CD time", doc.title),
        subtitle: format!(
            "{} \u{b7} {} tracks, {} \u{b7} album {} LUFS integrated, LRA {} LU, true peak {} dBTP",
            doc.artist,
            doc.tracks.len(),
            doc.lead_out.msf,
            value(a.integrated_lufs, 1),
            value(a.loudness_range_lu, 1),
            value(a.true_peak_dbtp, 2),
        ),
    };
    album_loudness_png(
        series,
        &marks,
        doc.lead_out.seconds,
        Some(doc.target_lufs),
        &heading,
    )
}

/// Short-term loudness over the whole disc. `series` is `(cd_time_s, lufs)`; `end_s` is the
/// lead-out. Tracks in disc order.
pub fn album_loudness_png(
    series: &[(f64, f64)],
    tracks: &[TrackMark<'_>],
    end_s: f64,
    target_lufs: Option<f64>,
    heading: &Heading,
) -> Result<Vec<u8>, ReportError> {
    let end_s = end_s.max(series.last().map_or(0.0, |p| p.0)).max(4.0);
    let levels = series
        .iter()
        .map(|p| p.1)
        .chain(tracks.iter().filter_map(|t| t.integrated_lufs))
        .chain(target_lufs)
        .filter(|y| y.is_finite());
    let (lo, hi) = levels.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), y| {
        (lo.min(y), hi.max(y))
    });
    let (lo, hi) = if lo.is_finite() {
        (lo, hi)
    } else {
        (-30.0, -10.0)
    };
    // At most 36 LU tall: the music's range in detail; gaps and fades fall to the floor.
    let (bottom, top) = level_range(lo, hi, 3.0, 36.0, 0.15);
    let level_step = if top - bottom > 27.0 { 6.0 } else { 3.0 };
    let step = time_step_s(end_s);
    let target_label = target_lufs.map(|t| format!("Target {t:.1} LUFS"));
    let curve = Curve {
        label: "Short-term loudness",
        color: MASTER,
        dashed: false,
    };
    let level = Curve {
        label: "Track integrated",
        color: INK,
        dashed: false,
    };
    let mut legend = vec![curve, level];
    if let Some(label) = &target_label {
        legend.push(Curve {
            label,
            color: TARGET,
            dashed: true,
        });
    }

    render_png_sized(ALBUM_PLOT_WIDTH, ALBUM_PLOT_HEIGHT, |root| {
        let legend_x = draw_header(root, "", &legend)?;
        let left = px(16) as i32;
        let title_style = font(19);
        if let Some(title) = fit(
            root,
            &heading.title,
            &title_style,
            legend_x - left - px(24) as i32,
        ) {
            root.draw(&Text::new(title, (left, px(14) as i32), title_style))
                .map_err(plot_err)?;
        }
        let subtitle_style = ("sans-serif", px(13)).into_font().color(&MUTED);
        let width = root.dim_in_pixel().0 as i32 - 2 * left;
        if let Some(subtitle) = fit(root, &heading.subtitle, &subtitle_style, width) {
            root.draw(&Text::new(
                subtitle,
                (left, px(14 + SUBTITLE_PX) as i32),
                subtitle_style,
            ))
            .map_err(plot_err)?;
        }
        let mut chart = ChartBuilder::on(root)
            .margin(px(16))
            .margin_top(px(HEADER_PX + SUBTITLE_PX + MARKER_BAND_PX))
            .x_label_area_size(px(48))
            .y_label_area_size(px(64))
            .build_cartesian_2d(
                StepAxis::new(0.0..end_s, step, step / 2.0),
                StepAxis::new(bottom..top, level_step, level_step / 3.0),
            )
            .map_err(plot_err)?;
        // Backgrounds first, so the grid and the curves draw over them.
        for (i, t) in tracks.iter().enumerate() {
            if i % 2 == 1 {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(t.start_s, bottom), (t.end_s, top)],
                        LANE.filled(),
                    )))
                    .map_err(plot_err)?;
            }
            if t.start_s > t.gap_start_s {
                chart
                    .draw_series(std::iter::once(Rectangle::new(
                        [(t.gap_start_s, bottom), (t.start_s, top)],
                        GAP.filled(),
                    )))
                    .map_err(plot_err)?;
            }
        }
        configure_mesh(
            &mut chart,
            "CD time (m:ss from the start of the disc, track 1's 2 s pre-gap included)",
            "Short-term loudness (LUFS, 3 s window)",
            &minutes_seconds,
        )?;
        if let (Some(t), Some(c)) = (target_lufs, legend.get(2)) {
            draw_curve(&mut chart, *c, vec![(0.0, t), (end_s, t)])?;
        }
        draw_curve(&mut chart, curve, clamped(series, bottom))?;
        for t in tracks {
            if let Some(l) = t.integrated_lufs.filter(|l| *l >= bottom) {
                chart
                    .draw_series(LineSeries::new(
                        [(t.start_s, l), (t.end_s, l)],
                        INK.stroke_width(px(2)),
                    ))
                    .map_err(plot_err)?;
            }
        }
        let (xs, ys) = chart.plotting_area().get_pixel_range();
        let x_of = |s: f64| chart.backend_coord(&(s, top)).0;
        draw_markers(root, tracks, end_s, xs.end, ys.end, &x_of)
    })
}

/// Each track's marker in the band above the plot: a flag with its number on a line down
/// through the plot at index 01, its title beside the flag and its figures under the title,
/// each cut to the room before the next track.
fn draw_markers(
    root: &Root<'_>,
    tracks: &[TrackMark<'_>],
    end_s: f64,
    plot_right: i32,
    plot_bottom: i32,
    x_of: &dyn Fn(f64) -> i32,
) -> Result<(), ReportError> {
    let flag_top = px(HEADER_PX + SUBTITLE_PX + 2) as i32;
    let flag_h = px(19) as i32;
    let number_style = ("sans-serif", px(13)).into_font().color(&WHITE);
    let title_style = font(14);
    let figure_style = ("sans-serif", px(12)).into_font().color(&MUTED);
    for (i, t) in tracks.iter().enumerate() {
        let x = x_of(t.start_s);
        let next = tracks.get(i + 1).map_or(end_s, |n| n.gap_start_s);
        let room = x_of(next).min(plot_right) - x - px(6) as i32;
        root.draw(&PathElement::new(
            vec![(x, flag_top), (x, plot_bottom)],
            INK.stroke_width(px(1)),
        ))
        .map_err(plot_err)?;
        let number = t.number.to_string();
        let (nw, nh) = root
            .estimate_text_size(&number, &number_style)
            .map_err(plot_err)?;
        let flag_w = nw as i32 + px(10) as i32;
        root.draw(&Rectangle::new(
            [(x, flag_top), (x + flag_w, flag_top + flag_h)],
            INK.filled(),
        ))
        .map_err(plot_err)?;
        root.draw(&Text::new(
            number,
            (x + px(5) as i32, flag_top + (flag_h - nh as i32) / 2),
            number_style.clone(),
        ))
        .map_err(plot_err)?;
        let title_x = x + flag_w + px(5) as i32;
        if let Some(title) = fit(root, t.title, &title_style, room - flag_w - px(5) as i32) {
            root.draw(&Text::new(
                title,
                (title_x, flag_top + px(1) as i32),
                title_style.clone(),
            ))
            .map_err(plot_err)?;
        }
        if let Some(text) = fit(root, &figures(t), &figure_style, room) {
            root.draw(&Text::new(
                text,
                (x + px(3) as i32, flag_top + flag_h + px(4) as i32),
                figure_style.clone(),
            ))
            .map_err(plot_err)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_track_marker_shows_its_figures_or_a_dash() {
        let mut t = TrackMark {
            number: 1,
            title: "A",
            gap_start_s: 0.0,
            start_s: 2.0,
            end_s: 10.0,
            integrated_lufs: Some(-14.04),
            true_peak_dbtp: Some(-1.26),
        };
        assert_eq!(figures(&t), "-14.0 LUFS \u{b7} -1.3 dBTP");
        t.integrated_lufs = None;
        assert_eq!(figures(&t), "\u{2013} LUFS \u{b7} -1.3 dBTP");
    }

    #[test]
    fn the_picture_draws_with_many_tracks_and_long_titles() {
        let series: Vec<(f64, f64)> = (50..3000)
            .map(|i| (i as f64 * 0.1, -14.0 + (i as f64 * 0.01).sin()))
            .collect();
        let titles: Vec<String> = (1..=12)
            .map(|n| format!("Track {n} with a title far too long for its span: Déjà vu"))
            .collect();
        let tracks: Vec<TrackMark<'_>> = titles
            .iter()
            .enumerate()
            .map(|(i, title)| TrackMark {
                number: i + 1,
                title,
                gap_start_s: i as f64 * 25.0,
                start_s: i as f64 * 25.0 + 2.0,
                end_s: (i + 1) as f64 * 25.0,
                integrated_lufs: Some(-14.0),
                true_peak_dbtp: Some(-1.0),
            })
            .collect();
        let heading = Heading {
            title: "An album whose title runs on and on, far past the legend: loudness".into(),
            subtitle: "Artist".into(),
        };
        let png = album_loudness_png(&series, &tracks, 300.0, Some(-14.0), &heading).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    }
}
