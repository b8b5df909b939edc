//! The report's two pictures, drawn with plotters into an RGB buffer and encoded as PNG:
//! short-term loudness over time and the long-term spectrum, each mix against master.
//!
//! plotters draws lines without anti-aliasing, so each picture is drawn at [`SUPERSAMPLE`]
//! times its size and averaged down: smooth curves without a second rasteriser. Text uses the
//! DejaVu Sans subset bundled next to this file (see DejaVuSans-LICENSE.txt), registered with
//! plotters' `ab_glyph` font backend, so nothing depends on the system's fonts. The album's
//! picture (`album::plot`) draws with the helpers here that are `pub(crate)`.

use std::sync::Once;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::register_font;

use super::ReportError;

/// Size of each picture as stored, in pixels.
pub const PLOT_WIDTH: u32 = 1100;
pub const PLOT_HEIGHT: u32 = 440;
/// Each picture is drawn at this multiple of its size and box-filtered down.
pub const SUPERSAMPLE: u32 = 2;

static FONT: &[u8] = include_bytes!("DejaVuSans-subset.ttf");
static REGISTER: Once = Once::new();

/// Registers the bundled font as plotters' "sans-serif", once per process.
fn register_bundled_font() {
    REGISTER.call_once(|| {
        // The font is compiled in and tested to parse; an error here is a build defect, and
        // the plots still draw (without text) rather than failing the render.
        let _ = register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

// A dark-on-light palette that survives printing in grey: the mix in a muted grey-blue, the
// master in a strong blue, the target in red.
pub(crate) const INK: RGBColor = RGBColor(0x22, 0x26, 0x2e);
const GRID_BOLD: RGBColor = RGBColor(0xd0, 0xd4, 0xda);
const GRID_LIGHT: RGBColor = RGBColor(0xec, 0xee, 0xf1);
const MIX: RGBColor = RGBColor(0x9a, 0xa3, 0xae);
pub(crate) const MASTER: RGBColor = RGBColor(0x1f, 0x5f, 0xbf);
pub(crate) const TARGET: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

pub(crate) type Chart<'a, X, Y> = ChartContext<'a, BitMapBackend<'a>, Cartesian2d<X, Y>>;

pub(crate) fn plot_err<E: std::fmt::Display>(e: E) -> ReportError {
    ReportError::Plot(e.to_string())
}

/// Scales a 1x length in pixels to the drawing resolution.
pub(crate) const fn px(v: u32) -> u32 {
    v * SUPERSAMPLE
}

/// The drawing area a picture is drawn on, at the supersampled resolution.
pub(crate) type Root<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Draws with `draw` into a supersampled RGB buffer and returns the picture as PNG bytes.
fn render_png(
    draw: impl FnOnce(&Root<'_>) -> Result<(), ReportError>,
) -> Result<Vec<u8>, ReportError> {
    render_png_sized(PLOT_WIDTH, PLOT_HEIGHT, draw)
}

/// [`render_png`] for a picture of `width` × `height` pixels as stored.
pub(crate) fn render_png_sized(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Root<'_>) -> Result<(), ReportError>,
) -> Result<Vec<u8>, ReportError> {
    register_bundled_font();
    let (w, h) = (width * SUPERSAMPLE, height * SUPERSAMPLE);
    let mut big = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut big, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_err)?;
        draw(&root)?;
        root.present().map_err(plot_err)?;
    }
    let small = downsample(&big, w as usize, h as usize, SUPERSAMPLE as usize);
    encode_png(&small, width, height)
}

/// Averages each `factor`×`factor` block of an RGB image.
fn downsample(rgb: &[u8], w: usize, h: usize, factor: usize) -> Vec<u8> {
    let (sw, sh) = (w / factor, h / factor);
    let mut out = vec![0u8; sw * sh * 3];
    let n = (factor * factor) as u32;
    for y in 0..sh {
        for x in 0..sw {
            for c in 0..3 {
                let mut sum = 0u32;
                for dy in 0..factor {
                    let row = (y * factor + dy) * w;
                    for dx in 0..factor {
                        sum += rgb[(row + x * factor + dx) * 3 + c] as u32;
                    }
                }
                out[(y * sw + x) * 3 + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    out
}

/// Encodes 8-bit RGB as PNG.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, ReportError> {
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header().map_err(plot_err)?;
    writer.write_image_data(rgb).map_err(plot_err)?;
    writer.finish().map_err(plot_err)?;
    Ok(bytes)
}

pub(crate) fn font(size: u32) -> TextStyle<'static> {
    ("sans-serif", px(size)).into_font().color(&INK)
}

/// Finite minimum and maximum of the second coordinate over both curves.
fn y_extent(a: &[(f64, f64)], b: &[(f64, f64)]) -> Option<(f64, f64)> {
    let ys = a.iter().chain(b).map(|p| p.1).filter(|y| y.is_finite());
    ys.fold(None, |acc, y| match acc {
        None => Some((y, y)),
        Some((lo, hi)) => Some((lo.min(y), hi.max(y))),
    })
}

/// Points with their level clamped to the bottom of the axis, so silence (-∞) and passages
/// below the axis sit on the floor rather than vanishing.
pub(crate) fn clamped(points: &[(f64, f64)], floor: f64) -> Vec<(f64, f64)> {
    points
        .iter()
        .map(|&(x, y)| (x, if y.is_nan() { floor } else { y.max(floor) }))
        .collect()
}

/// A linear axis with grid lines on whole multiples of round steps (plotters' own choice is
/// decimal, which reads badly as minutes and seconds, or as LU in steps of 3).
pub(crate) struct StepAxis {
    linear: RangedCoordf64,
    bold_step: f64,
    light_step: f64,
}

impl StepAxis {
    pub(crate) fn new(range: std::ops::Range<f64>, bold_step: f64, light_step: f64) -> Self {
        Self {
            linear: range.into(),
            bold_step,
            light_step,
        }
    }

    fn multiples(&self, step: f64) -> Vec<f64> {
        let r = self.linear.range();
        let first = (r.start / step - 1e-9).ceil() as i64;
        (first..)
            .map(|i| i as f64 * step)
            .take_while(|&v| v <= r.end + 1e-9 * step)
            .collect()
    }
}

impl Ranged for StepAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            self.multiples(self.light_step)
        } else {
            self.multiples(self.bold_step)
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// How a curve is drawn, for the plot and its legend.
#[derive(Clone, Copy)]
pub(crate) struct Curve<'a> {
    pub label: &'a str,
    pub color: RGBColor,
    pub dashed: bool,
}

const MIX_CURVE: Curve<'static> = Curve {
    label: "Mix",
    color: MIX,
    dashed: false,
};
const MASTER_CURVE: Curve<'static> = Curve {
    label: "Master",
    color: MASTER,
    dashed: false,
};

/// Height of the band above the plot that holds the title (left) and legend (right).
pub(crate) const HEADER_PX: u32 = 44;

/// Draws the title at the top left and a legend of `curves` at the top right of `root`,
/// outside the plot, where no curve can hide behind it. Returns where the legend starts (its
/// left edge, in the root's pixels), the room a title has.
pub(crate) fn draw_header(
    root: &Root<'_>,
    title: &str,
    curves: &[Curve<'_>],
) -> Result<i32, ReportError> {
    let title_style = font(19);
    root.draw(&Text::new(
        title,
        (px(16) as i32, px(14) as i32),
        title_style,
    ))
    .map_err(plot_err)?;
    let label_style = font(14);
    let swatch = px(26) as i32;
    let gap = px(8) as i32;
    let space = px(22) as i32;
    let y = px(18) as i32;
    let mut x = root.dim_in_pixel().0 as i32 - px(20) as i32;
    for c in curves.iter().rev() {
        let (w, _) = root
            .estimate_text_size(c.label, &label_style)
            .map_err(plot_err)?;
        x -= w as i32;
        root.draw(&Text::new(c.label, (x, y), label_style.clone()))
            .map_err(plot_err)?;
        x -= gap + swatch;
        let line_y = y + px(8) as i32;
        let style = c.color.stroke_width(px(3));
        if c.dashed {
            for k in 0..2 {
                let x0 = x + k * (swatch / 2 + px(2) as i32);
                root.draw(&PathElement::new(
                    vec![(x0, line_y), (x0 + swatch / 2 - px(2) as i32, line_y)],
                    style,
                ))
                .map_err(plot_err)?;
            }
        } else {
            root.draw(&PathElement::new(
                vec![(x, line_y), (x + swatch, line_y)],
                style,
            ))
            .map_err(plot_err)?;
        }
        x -= space;
    }
    Ok(x + space)
}

/// "m:ss" for a time axis.
pub(crate) fn minutes_seconds(t: &f64) -> String {
    let s = t.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

/// A round tick spacing in seconds giving about eight ticks over `duration_s`.
pub(crate) fn time_step_s(duration_s: f64) -> f64 {
    const STEPS: [f64; 10] = [1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0];
    let want = duration_s / 8.0;
    STEPS.iter().copied().find(|&s| s >= want).unwrap_or(1200.0)
}

/// A vertical range in whole `step`s around `lo..hi`, at most `max_span` tall, with air on
/// top and `floor_room` (a fraction of the data's span) below the lowest point.
pub(crate) fn level_range(
    lo: f64,
    hi: f64,
    step: f64,
    max_span: f64,
    floor_room: f64,
) -> (f64, f64) {
    let top = ((hi + 0.5 * step) / step).ceil() * step;
    let room = (floor_room * (hi - lo)).max(step);
    let bottom = (((lo - room) / step).floor() * step)
        .max(top - max_span)
        .min(top - 4.0 * step);
    (bottom, top)
}

pub(crate) fn configure_mesh<X, Y>(
    chart: &mut Chart<'_, X, Y>,
    x_desc: &str,
    y_desc: &str,
    x_format: &dyn Fn(&f64) -> String,
) -> Result<(), ReportError>
where
    X: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + plotters::coord::ranged1d::ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .bold_line_style(GRID_BOLD.stroke_width(px(1)))
        .light_line_style(GRID_LIGHT.stroke_width(px(1)))
        .axis_style(INK.stroke_width(px(1)))
        .label_style(font(14))
        .axis_desc_style(font(15))
        .x_desc(x_desc)
        .y_desc(y_desc)
        .x_label_formatter(x_format)
        .y_label_formatter(&|y| format!("{y:.0}"))
        .x_labels(40)
        .y_labels(40)
        .draw()
        .map_err(plot_err)
}

pub(crate) fn draw_curve<X, Y>(
    chart: &mut Chart<'_, X, Y>,
    curve: Curve<'_>,
    points: Vec<(f64, f64)>,
) -> Result<(), ReportError>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let style = curve.color.stroke_width(px(2));
    if curve.dashed {
        chart
            .draw_series(DashedLineSeries::new(points, px(10), px(6), style))
            .map_err(plot_err)?;
    } else {
        chart
            .draw_series(LineSeries::new(points, style))
            .map_err(plot_err)?;
    }
    Ok(())
}

/// Where the loudness picture's plot area lies in the picture as stored, and the times at
/// its left and right edges: what report.html's player needs to put a playhead over it.
/// Pixels count from the picture's top left corner; a time `t` is at
/// `left_px + (t - start_s) / (end_s - start_s) * (right_px - left_px)`, as plotters maps it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TimeAxis {
    pub start_s: f64,
    pub end_s: f64,
    pub left_px: f64,
    pub right_px: f64,
    pub top_px: f64,
    pub bottom_px: f64,
    pub width_px: u32,
    pub height_px: u32,
}

/// Short-term loudness over time, mix and master, with the target as a dashed line.
/// Series are `(time_s, lufs)` as from `analysis::short_term_series`.
pub fn loudness_plot_png(
    mix: &[(f64, f64)],
    master: &[(f64, f64)],
    target_lufs: Option<f64>,
) -> Result<Vec<u8>, ReportError> {
    loudness_plot(mix, master, target_lufs).map(|(png, _)| png)
}

/// [`loudness_plot_png`] and where its time axis lies in the picture.
pub fn loudness_plot(
    mix: &[(f64, f64)],
    master: &[(f64, f64)],
    target_lufs: Option<f64>,
) -> Result<(Vec<u8>, TimeAxis), ReportError> {
    let duration = mix
        .iter()
        .chain(master)
        .map(|p| p.0)
        .fold(0.0f64, f64::max)
        .max(3.0);
    let (lo, hi) = y_extent(mix, master).unwrap_or((-30.0, -10.0));
    let lo = lo.min(target_lufs.unwrap_or(lo));
    let hi = hi.max(target_lufs.unwrap_or(hi));
    let (bottom, top) = level_range(lo, hi, 3.0, 48.0, 0.15);
    // Grid every 3 LU, or every 6 LU when that would crowd the labels (a quiet intro or a
    // fade-out stretches the range).
    let level_step = if top - bottom > 27.0 { 6.0 } else { 3.0 };
    let step = time_step_s(duration);
    let target_label = target_lufs.map(|t| format!("Target {t:.1} LUFS"));
    let mut curves = vec![MIX_CURVE, MASTER_CURVE];
    if let Some(label) = &target_label {
        curves.push(Curve {
            label,
            color: TARGET,
            dashed: true,
        });
    }

    let mut area = None;
    let png = render_png(|root| {
        draw_header(root, "Short-term loudness (3 s window)", &curves)?;
        let mut chart = ChartBuilder::on(root)
            .margin(px(16))
            .margin_top(px(HEADER_PX + 6))
            .x_label_area_size(px(48))
            .y_label_area_size(px(64))
            .build_cartesian_2d(
                StepAxis::new(0.0..duration, step, step / 2.0),
                StepAxis::new(bottom..top, level_step, level_step / 3.0),
            )
            .map_err(plot_err)?;
        configure_mesh(
            &mut chart,
            "Time (m:ss)",
            "Loudness (LUFS)",
            &minutes_seconds,
        )?;
        if let (Some(t), Some(c)) = (target_lufs, curves.get(2)) {
            draw_curve(&mut chart, *c, vec![(0.0, t), (duration, t)])?;
        }
        draw_curve(&mut chart, MIX_CURVE, clamped(mix, bottom))?;
        area = Some(chart.plotting_area().get_pixel_range());
        draw_curve(&mut chart, MASTER_CURVE, clamped(master, bottom))
    })?;
    let (x, y) = area.ok_or_else(|| ReportError::Plot("no plot area".into()))?;
    let stored = |v: i32| f64::from(v) / f64::from(SUPERSAMPLE);
    let axis = TimeAxis {
        start_s: 0.0,
        end_s: duration,
        left_px: stored(x.start),
        right_px: stored(x.end),
        top_px: stored(y.start),
        bottom_px: stored(y.end),
        width_px: PLOT_WIDTH,
        height_px: PLOT_HEIGHT,
    };
    Ok((png, axis))
}

/// Frequencies labelled on the spectrum's axis.
const FREQUENCY_TICKS_HZ: [f64; 10] = [
    20.0, 50.0, 100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0, 10_000.0, 20_000.0,
];

fn hz_label(f: &f64) -> String {
    if *f >= 1000.0 {
        format!("{}k", f / 1000.0)
    } else {
        format!("{f}")
    }
}

/// Height of the spectrum picture as stored: the two spectra above, their difference below.
pub const SPECTRUM_HEIGHT: u32 = 620;
/// Share of the spectrum picture's height the difference panel takes.
const DIFFERENCE_SHARE: f64 = 0.36;
const DIFFERENCE: RGBColor = RGBColor(0xc0, 0x6a, 0x00);

/// `master - mix` in dB at each band both spectra have (the two may be measured at different
/// rates, so the highest bands of one may be missing in the other).
pub fn spectrum_difference(mix: &[(f64, f64)], master: &[(f64, f64)]) -> Vec<(f64, f64)> {
    master
        .iter()
        .filter_map(|&(f, level)| {
            let (_, m) = mix.iter().find(|(g, _)| ((g / f) - 1.0).abs() < 1e-6)?;
            (level.is_finite() && m.is_finite()).then_some((f, level - m))
        })
        .collect()
}

/// The long-term spectrum of mix and master on a logarithmic frequency axis, the mix moved
/// by `mix_gain_db` to the master's integrated loudness, so what differs is the tone alone
/// (a plot of unmatched spectra shows mostly the level change); below them the difference,
/// master minus level-matched mix. Spectra are `(centre_hz, level_db)` as from
/// `analysis::long_term_spectrum`.
pub fn spectrum_plot_png(
    mix: &[(f64, f64)],
    master: &[(f64, f64)],
    mix_gain_db: f64,
) -> Result<Vec<u8>, ReportError> {
    let matched: Vec<(f64, f64)> = mix.iter().map(|&(f, l)| (f, l + mix_gain_db)).collect();
    let difference = spectrum_difference(&matched, master);
    let (lo, hi) = y_extent(&matched, master).unwrap_or((-80.0, -20.0));
    let (bottom, top) = level_range(lo, hi, 6.0, 96.0, 0.05);
    // The difference panel spans whole 3 dB steps around the largest difference in the
    // audible range: at least ±3 dB (so a flat line reads as flat, not as noise), at most
    // ±12 dB (larger moves are clipped at the panel's edge).
    let largest = difference
        .iter()
        .filter(|(f, _)| (20.0..=20_000.0).contains(f))
        .map(|(_, d)| d.abs())
        .fold(0.0f64, f64::max);
    let span = ((largest / 3.0).ceil() * 3.0).clamp(3.0, 12.0);
    let light: Vec<f64> = [10.0, 100.0, 1000.0, 10_000.0]
        .iter()
        .flat_map(|decade| (2..10).map(move |m| decade * m as f64))
        .filter(|f| (20.0..=20_000.0).contains(f) && !FREQUENCY_TICKS_HZ.contains(f))
        .collect();
    let x_axis = || {
        (20.0..20_000.0)
            .log_scale()
            .with_key_points(FREQUENCY_TICKS_HZ.to_vec())
            .with_light_points(light.clone())
    };
    let mix_label = format!("Mix {mix_gain_db:+.1} dB (same loudness)");
    let mix_curve = Curve {
        label: &mix_label,
        ..MIX_CURVE
    };
    let difference_curve = Curve {
        label: "Difference (master \u{2212} mix)",
        color: DIFFERENCE,
        dashed: false,
    };

    render_png_sized(PLOT_WIDTH, SPECTRUM_HEIGHT, |root| {
        draw_header(
            root,
            "Long-term spectrum (mid, 1/6 octave)",
            &[mix_curve, MASTER_CURVE, difference_curve],
        )?;
        let split = (f64::from(root.dim_in_pixel().1) * (1.0 - DIFFERENCE_SHARE)) as u32;
        let (upper, lower) = root.split_vertically(split);
        let mut chart = ChartBuilder::on(&upper)
            .margin(px(16))
            .margin_top(px(HEADER_PX + 6))
            .margin_bottom(px(4))
            .x_label_area_size(px(8))
            .y_label_area_size(px(64))
            .build_cartesian_2d(x_axis(), StepAxis::new(bottom..top, 6.0, 6.0))
            .map_err(plot_err)?;
        configure_mesh(&mut chart, "", "Band level (dB)", &|_| String::new())?;
        draw_curve(&mut chart, mix_curve, clamped(&matched, bottom))?;
        draw_curve(&mut chart, MASTER_CURVE, clamped(master, bottom))?;

        let mut diff_chart = ChartBuilder::on(&lower)
            .margin(px(16))
            .margin_top(px(4))
            .x_label_area_size(px(48))
            .y_label_area_size(px(64))
            .build_cartesian_2d(x_axis(), StepAxis::new(-span..span, span / 2.0, span / 4.0))
            .map_err(plot_err)?;
        configure_mesh(
            &mut diff_chart,
            "Frequency (Hz)",
            "Difference (dB)",
            &hz_label,
        )?;
        draw_curve(
            &mut diff_chart,
            MIX_CURVE,
            vec![(20.0, 0.0), (20_000.0, 0.0)],
        )?;
        let clipped = difference
            .iter()
            .map(|&(f, d)| (f, d.clamp(-span, span)))
            .collect();
        draw_curve(&mut diff_chart, difference_curve, clipped)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_font_parses() {
        assert!(ab_glyph_parses(FONT));
    }

    fn ab_glyph_parses(bytes: &'static [u8]) -> bool {
        register_font("lathe-test", FontStyle::Normal, bytes).is_ok()
    }

    #[test]
    fn downsampling_averages_blocks() {
        let rgb = [0u8, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0];
        assert_eq!(downsample(&rgb, 2, 2, 2), vec![128, 128, 128]);
    }

    #[test]
    fn time_ticks_are_round() {
        assert_eq!(time_step_s(16.0), 2.0);
        let axis = StepAxis::new(-31.0..-5.0, 6.0, 6.0);
        assert_eq!(axis.multiples(6.0), vec![-30.0, -24.0, -18.0, -12.0, -6.0]);
        assert_eq!(time_step_s(240.0), 30.0);
        assert_eq!(minutes_seconds(&125.0), "2:05");
        assert_eq!(hz_label(&2000.0), "2k");
        assert_eq!(hz_label(&50.0), "50");
    }
}
