//! The render report: `report.json` and `report.html` from a real render of tests/data, and
//! the analysis behind the plots against signals whose answer is known.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lathe::dsp::ChainSettings;
use lathe::render::analysis::{
    band_centres_hz, fractional_octave_bands, long_term_spectrum, short_term_series,
    welch_power_spectrum,
};
use lathe::render::decode::decode_file;
use lathe::render::formats::parse_formats;
use lathe::render::report::{
    html, player, plot, write_atomic, write_report, write_report_files, Plots, ReportAudio,
    ReportDocument,
};
use lathe::render::{self, RenderJob, LOUDNESS_TOLERANCE_LU};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-report-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One render of the francium excerpt with its report, shared by the tests that read it.
struct Rendered {
    dir: PathBuf,
    doc: ReportDocument,
    json: String,
    html: String,
    plots: Plots,
}

const TARGET_LUFS: f64 = -14.0;

fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let dir = scratch("francium");
        let mix_path = data("francium_excerpt.flac");
        // The four WAVs (the encoders are not wired into the renderer yet), solved to -14 LUFS
        // under a -1 dBTP ceiling.
        let mut job = RenderJob::new(mix_path.clone(), dir.clone(), ChainSettings::default());
        job.formats = parse_formats("wav44-16,wav44-24,wav48-16,wav48-24").unwrap();
        job.target_lufs = Some(TARGET_LUFS);
        job.force = true;
        let report = render::render(&job, &mut |_, _| {}).expect("render");
        let mix = decode_file(&mix_path).unwrap();
        let doc = ReportDocument::from_render(
            &report,
            &mix.source,
            mix.channels.len(),
            "2025-01-31T12:00:00Z".to_string(),
        );
        let streaming = doc.streaming_master().expect("a master");
        let master = decode_file(Path::new(&streaming.path)).unwrap();
        let mix_audio = ReportAudio {
            channels: &mix.channels,
            sample_rate: mix.sample_rate,
        };
        let master_audio = ReportAudio {
            channels: &master.channels,
            sample_rate: master.sample_rate,
        };
        let plots = Plots::draw(mix_audio, master_audio, doc.target_lufs).unwrap();
        // The render's own report, written again with a fixed date.
        let paths = job.report_paths();
        write_report_files(&dir, &paths, &doc, &plots).expect("report");
        // Keep the pictures beside the report, to look at.
        std::fs::write(dir.join("loudness.png"), &plots.loudness_png).unwrap();
        std::fs::write(dir.join("spectrum.png"), &plots.spectrum_png).unwrap();
        Rendered {
            json: std::fs::read_to_string(&paths.json).unwrap(),
            html: std::fs::read_to_string(&paths.html).unwrap(),
            dir,
            doc,
            plots,
        }
    })
}

#[test]
fn the_json_parses_back_with_the_measured_figures() {
    let r = rendered();
    let back = ReportDocument::from_json(&r.json).expect("report.json parses");
    assert_eq!(back, r.doc);

    // The figures are those of the files on disk, measured again here.
    assert_eq!(back.deliverables.len(), 4);
    for d in &back.deliverables {
        let written = decode_file(Path::new(&d.path)).unwrap();
        let m = render::measure::measure(&written.channels, written.sample_rate);
        assert_eq!(d.measurement.integrated_lufs, Some(m.integrated_lufs));
        assert_eq!(d.measurement.true_peak_dbtp, Some(m.true_peak_dbtp));
        assert_eq!(d.measurement.sample_peak_dbfs, Some(m.sample_peak_dbfs));
        assert_eq!(d.measurement.loudness_range_lu, Some(m.loudness_range_lu));
        let plr = d.measurement.plr_db.unwrap();
        assert!((plr - (m.true_peak_dbtp - m.integrated_lufs)).abs() < 1e-12);
        assert_eq!(d.sample_rate, written.sample_rate);
        assert_eq!(d.bits, written.source.bits_per_sample.map(|b| b as u16));
        assert!((d.measurement.duration_s - 16.0).abs() < 0.001, "{d:?}");
        assert!((m.integrated_lufs - TARGET_LUFS).abs() <= LOUDNESS_TOLERANCE_LU);
        assert!(m.true_peak_dbtp <= -1.0);
    }
    let d = back.streaming_master().unwrap();
    assert_eq!(d.format_id, "wav44-16");

    // The mix as tests/data/README.md measured it with ffmpeg: -17.8 LUFS, -2.6 dBTP.
    let mix = &back.mix.measurement;
    assert!((mix.integrated_lufs.unwrap() + 17.8).abs() < 0.1, "{mix:?}");
    assert!((mix.true_peak_dbtp.unwrap() + 2.6).abs() < 0.1, "{mix:?}");
    assert_eq!(back.mix.container, "FLAC");

    // The seven checks of the mix, its codec, and (with a target) whether it looks mastered.
    assert_eq!(back.preflight.len(), 9);
    let names: Vec<&str> = back.preflight.iter().map(|c| c.name.as_str()).collect();
    assert!(names.contains(&"source codec") && names.contains(&"already mastered"));
    let lead = back
        .preflight
        .iter()
        .find(|c| c.name == "leading silence")
        .unwrap();
    assert_eq!(lead.severity, lathe::render::preflight::Severity::Note);
    let loudness = back.loudness.expect("a solved target");
    assert!(loudness.reached);
    assert_eq!(back.settings.limiter.drive_db, loudness.drive_db);
    assert_eq!(back.target_lufs, Some(TARGET_LUFS));
    assert_eq!(back.ceiling_dbtp, -1.0);
    assert_eq!(back.platforms.len(), 6);
    let spotify = &back.platforms[0];
    let i = d.measurement.integrated_lufs.unwrap();
    assert!((spotify.playback_lufs.unwrap() - (i + spotify.gain_db)).abs() < 1e-9);
}

#[test]
fn the_json_holds_null_for_the_loudness_of_silence() {
    let mut doc = rendered().doc.clone();
    doc.deliverables[0].measurement.integrated_lufs = None;
    doc.deliverables[0].measurement.plr_db = None;
    let text = doc.to_json().unwrap();
    assert!(text.contains("\"integrated_lufs\": null"));
    assert_eq!(ReportDocument::from_json(&text).unwrap(), doc);
}

/// Every quoted `src` or `href` attribute and every CSS `url(` or `@import` in the page, with
/// what follows it. (Escaped text cannot hold a quoted attribute: `"` and `'` become
/// entities.)
fn references(html: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    ["src=\"", "src='", "href=\"", "href='", "url(", "@import"]
        .iter()
        .flat_map(|key| {
            lower
                .match_indices(key)
                .map(|(i, _)| lower[i..(i + 40).min(lower.len())].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn the_html_is_self_contained_and_shows_every_deliverable_and_check() {
    let r = rendered();
    let refs = references(&r.html);
    assert_eq!(refs.len(), 2, "{refs:?}");
    for reference in &refs {
        assert!(
            reference.starts_with("src=\"data:image/png;base64,"),
            "{reference}"
        );
    }
    let lower = r.html.to_ascii_lowercase();
    for forbidden in ["http:", "https:", "<script", "<link", "<iframe", "<object"] {
        assert!(!lower.contains(forbidden), "{forbidden}");
    }
    for d in &r.doc.deliverables {
        let name = Path::new(&d.path).file_name().unwrap().to_str().unwrap();
        assert!(r.html.contains(&html::escape(name)), "{name}");
    }
    for c in &r.doc.preflight {
        assert!(r.html.contains(&html::escape(&c.name)), "{}", c.name);
        assert!(r.html.contains(&html::escape(&c.detail)), "{}", c.detail);
    }
    for p in &r.doc.platforms {
        assert!(r.html.contains(&html::escape(&p.note)), "{}", p.note);
    }
    // The embedded pictures are the ones drawn from the same audio.
    assert!(r.html.contains(&html::png_data_uri(&r.plots.loudness_png)));
    assert!(r.html.contains(&html::png_data_uri(&r.plots.spectrum_png)));
    assert!(r.dir.join("francium_excerpt.report.json").exists());
    let leftovers: Vec<_> = std::fs::read_dir(&r.dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty());
}

#[test]
fn hostile_names_and_details_are_escaped() {
    let mut doc = rendered().doc.clone();
    doc.mix.path = "/tmp/<script>alert(\"mix\")<script>.wav".to_string();
    doc.deliverables[0].path = "/out/<img src=x onerror=alert(1)>.wav".to_string();
    doc.deliverables[0].notes = vec!["encoder said <b>&</b>".to_string()];
    doc.preflight[0].detail = "</td><script>alert('x')</script>".to_string();
    doc.warnings = vec!["<iframe>".to_string()];
    let page = html::render_html(&doc, &rendered().plots);
    let lower = page.to_ascii_lowercase();
    assert!(!lower.contains("<script"));
    assert!(!lower.contains("<img src=x"));
    assert!(!lower.contains("<iframe"));
    assert!(!lower.contains("<b>"));
    assert!(page.contains("&lt;script&gt;alert(&quot;mix&quot;)&lt;script&gt;.wav"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;.wav"));
    assert!(page.contains("encoder said &lt;b&gt;&amp;&lt;/b&gt;"));
    assert_eq!(references(&page).len(), 2);
}

/// Decodes a PNG to RGB8 and its size.
fn decode_png(bytes: &[u8]) -> (Vec<u8>, u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (buf, info.width, info.height)
}

/// Columns of the picture holding a pixel in the master's blue (a strong blue, far from the
/// grey mix, the red target and the grid).
fn blue_columns(rgb: &[u8], width: u32) -> usize {
    let w = width as usize;
    (0..w)
        .filter(|&x| {
            rgb.chunks(3)
                .skip(x)
                .step_by(w)
                .any(|p| p[2] as i32 - p[0] as i32 > 80 && p[2] > 150)
        })
        .count()
}

/// Pixels dark enough to be text or axis lines.
fn ink_pixels(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 110)
        .count()
}

#[test]
fn the_plots_decode_and_draw_the_curves() {
    for (png, height) in [
        (&rendered().plots.loudness_png, plot::PLOT_HEIGHT),
        (&rendered().plots.spectrum_png, plot::SPECTRUM_HEIGHT),
    ] {
        let (rgb, w, h) = decode_png(png);
        assert_eq!((w, h), (plot::PLOT_WIDTH, height));
        // Titles, tick labels and axes are drawn: the font loaded.
        assert!(ink_pixels(&rgb) > 3_000, "{}", ink_pixels(&rgb));
    }

    // A known signal: a steady tone reads one level from the first full window (3 s) to the
    // end (12 s), so the master's curve crosses three quarters of the plot's ~1000 px width;
    // without it only the legend's 26 px swatch is blue.
    let tone = sine(1000.0, -20.0, 48_000, 12.0);
    let series = short_term_series(&[tone.clone(), tone], 48_000);
    let columns = |series: &[(f64, f64)]| {
        let png = plot::loudness_plot_png(&[], series, Some(-14.0)).unwrap();
        blue_columns(&decode_png(&png).0, plot::PLOT_WIDTH)
    };
    let (with, without) = (columns(&series), columns(&[]));
    eprintln!("loudness plot of a tone: blue in {with} columns, {without} without the curve");
    assert!(with > 650 && with < 900, "{with}");
    assert!(without < 40, "{without}");
}

fn sine(freq_hz: f64, peak_dbfs: f64, rate: u32, secs: f64) -> Vec<f32> {
    let a = 10f64.powf(peak_dbfs / 20.0);
    let w = 2.0 * std::f64::consts::PI * freq_hz / rate as f64;
    (0..(secs * rate as f64) as usize)
        .map(|i| (a * (w * i as f64).sin()) as f32)
        .collect()
}

#[test]
fn the_spectrum_of_a_1khz_sine_peaks_at_1khz_at_its_level() {
    let tone = sine(1000.0, -20.0, 48_000, 10.0);
    let spectrum = long_term_spectrum(&[tone.clone(), tone], 48_000);
    let (peak_hz, peak_db) =
        spectrum.iter().copied().fold(
            (0.0, f64::NEG_INFINITY),
            |a, b| if b.1 > a.1 { b } else { a },
        );
    let next = spectrum
        .iter()
        .filter(|(f, _)| (f / 1000.0).log2().abs() > 0.1)
        .map(|p| p.1)
        .fold(f64::NEG_INFINITY, f64::max);
    eprintln!("-20 dBFS 1 kHz sine: {peak_db:.3} dB at {peak_hz} Hz, next band {next:.1} dB");
    assert!((peak_hz - 1000.0).abs() < 1e-6, "{peak_hz}");
    // The band holds the whole sine: its level is the sine's, -20 dB re full scale.
    assert!((peak_db + 20.0).abs() < 0.05, "{peak_db}");
    // A sixth of an octave away the Hann window's leakage is far down.
    for &(f, db) in &spectrum {
        if (f / 1000.0).log2().abs() > 0.1 {
            assert!(db < peak_db - 60.0, "{f} Hz: {db} dB");
        }
    }
}

/// Least-squares slope of level against octaves, in dB per octave, over `lo..hi` Hz, and the
/// largest deviation of a band from that line.
fn slope_db_per_octave(bands: &[(f64, f64)], lo: f64, hi: f64) -> (f64, f64) {
    let pts: Vec<(f64, f64)> = bands
        .iter()
        .filter(|(f, _)| (lo..=hi).contains(f))
        .map(|&(f, db)| (f.log2(), db))
        .collect();
    let n = pts.len() as f64;
    let mx = pts.iter().map(|p| p.0).sum::<f64>() / n;
    let my = pts.iter().map(|p| p.1).sum::<f64>() / n;
    let sxy: f64 = pts.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    let sxx: f64 = pts.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let slope = sxy / sxx;
    let worst = pts
        .iter()
        .map(|p| (p.1 - (my + slope * (p.0 - mx))).abs())
        .fold(0.0, f64::max);
    (slope, worst)
}

fn white_noise(n: usize, seed: u64) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            ((s >> 11) as f64 / (1u64 << 53) as f64 - 0.5) as f32 * 0.5
        })
        .collect()
}

/// Paul Kellet's "refined" pink-noise filter (music-dsp archive, 1999): -3 dB per octave
/// within ±0.05 dB above 9.2 Hz at 44.1 kHz.
fn pink(white: &[f32]) -> Vec<f32> {
    let mut b = [0.0f64; 7];
    white
        .iter()
        .map(|&w| {
            let w = w as f64;
            b[0] = 0.99886 * b[0] + w * 0.0555179;
            b[1] = 0.99332 * b[1] + w * 0.0750759;
            b[2] = 0.96900 * b[2] + w * 0.1538520;
            b[3] = 0.86650 * b[3] + w * 0.3104856;
            b[4] = 0.55000 * b[4] + w * 0.5329522;
            b[5] = -0.7616 * b[5] - w * 0.0168980;
            let out = b.iter().sum::<f64>() + w * 0.5362;
            b[6] = w * 0.115926;
            (out * 0.1) as f32
        })
        .collect()
}

#[test]
fn white_noise_rises_3db_per_octave_and_pink_noise_reads_flat() {
    // Band power: a band's width is proportional to its centre, so white noise gains
    // 10·log10(2) = 3.01 dB per octave and pink (-3 dB/octave density) reads flat.
    // 30 s of noise: the narrowest band used (50 Hz, 5.8 Hz wide) averages ~170 independent
    // estimates, a standard deviation of about 0.35 dB.
    let rate = 44_100;
    let white = white_noise(30 * rate as usize, 0x9E37_79B9_7F4A_7C15);
    let w = long_term_spectrum(std::slice::from_ref(&white), rate);
    let (slope, worst) = slope_db_per_octave(&w, 50.0, 16_000.0);
    eprintln!("white noise: {slope:.3} dB/octave, worst band {worst:.2} dB off the line");
    assert!((slope - 3.0103).abs() < 0.1, "white: {slope} dB/oct");
    assert!(worst < 1.5, "white: {worst} dB off the line");

    let p = long_term_spectrum(&[pink(&white)], rate);
    let (slope, worst) = slope_db_per_octave(&p, 50.0, 16_000.0);
    eprintln!("pink noise: {slope:.3} dB/octave, worst band {worst:.2} dB off the line");
    assert!(slope.abs() < 0.1, "pink: {slope} dB/oct");
    assert!(worst < 1.5, "pink: {worst} dB off the line");
}

#[test]
fn bands_of_white_noise_hold_their_share_of_its_power() {
    // White noise of mean square σ² spreads it evenly to Nyquist: a band of width B holds
    // σ²·B/(fs/2). Checks the absolute scale of the linear API the reference matcher uses.
    let rate = 48_000;
    let noise = white_noise(20 * rate as usize, 7);
    let ms = noise.iter().map(|&x| (x as f64).powi(2)).sum::<f64>() / noise.len() as f64;
    let spectrum = welch_power_spectrum(&noise, rate, 8192);
    let bands = fractional_octave_bands(&spectrum, 3, 1000.0, 1000.0);
    assert_eq!(bands.len(), 1);
    let (fc, power) = bands[0];
    let width = fc * (2f64.powf(1.0 / 6.0) - 2f64.powf(-1.0 / 6.0));
    let expected = ms * width / (rate as f64 / 2.0);
    eprintln!(
        "white noise 1/3-octave band at 1 kHz: {:.4} of the expected power",
        power / expected
    );
    assert!(
        (power / expected - 1.0).abs() < 0.05,
        "{power} vs {expected}"
    );
    assert_eq!(band_centres_hz(3, 1000.0, 1000.0), vec![1000.0]);
}

#[test]
fn short_term_loudness_of_a_minus_23_lufs_tone_reads_minus_23() {
    // EBU Tech 3341 case 1: stereo 1 kHz sine at -23 dBFS peak per channel, 20 s: short-term
    // loudness -23.0 ±0.1 LUFS once the 3 s window is full.
    let tone = sine(1000.0, -23.0, 48_000, 20.0);
    let series = short_term_series(&[tone.clone(), tone.clone()], 48_000);
    assert!(
        (series[0].0 - 3.0).abs() < 1e-9,
        "first reading at {} s",
        series[0].0
    );
    assert!((series[1].0 - series[0].0 - 0.1).abs() < 1e-9);
    assert_eq!(series.len(), 171); // 3.0 s to 20.0 s every 100 ms
    let worst = series
        .iter()
        .map(|p| (p.1 + 23.0).abs())
        .fold(0.0, f64::max);
    eprintln!("-23 LUFS tone: short-term readings within {worst:.4} LU of -23");
    for &(t, lufs) in &series {
        assert!((lufs + 23.0).abs() <= 0.1, "{lufs} LUFS at {t} s");
    }
    // Mono is measured as dual mono: the same tone in one channel reads the same.
    assert_eq!(short_term_series(&[tone], 48_000), series);
}

#[test]
fn atomic_writes_replace_whole_files_and_leave_nothing_behind() {
    let dir = scratch("atomic");
    let path = dir.join("report.json");
    write_atomic(&path, b"first").unwrap();
    write_atomic(&path, b"second").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"second");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    // A folder that does not exist: an error naming the file, no panic.
    let err = write_atomic(&dir.join("missing/report.html"), b"x").unwrap_err();
    assert!(err.to_string().contains("report.html"), "{err}");
}

#[test]
fn write_report_draws_the_audio_it_is_given() {
    let dir = scratch("write-report");
    let tone = sine(1000.0, -20.0, 48_000, 5.0);
    let quiet = sine(1000.0, -30.0, 48_000, 5.0);
    let mix = [quiet.clone(), quiet];
    let master = [tone.clone(), tone];
    let audio = |channels| ReportAudio {
        channels,
        sample_rate: 48_000,
    };
    let doc = rendered().doc.clone();
    let paths = write_report(&dir, "Night Drive", &doc, audio(&mix), audio(&master)).unwrap();
    assert_eq!(paths.json, dir.join("Night Drive.report.json"));
    assert_eq!(paths.html, dir.join("Night Drive.report.html"));
    let page = std::fs::read_to_string(&paths.html).unwrap();
    let plots = Plots::draw(audio(&mix), audio(&master), doc.target_lufs).unwrap();
    assert!(page.contains(&html::png_data_uri(&plots.loudness_png)));
    assert!(page.contains(&html::png_data_uri(&plots.spectrum_png)));
    assert_eq!(
        ReportDocument::from_json(&std::fs::read_to_string(&paths.json).unwrap()).unwrap(),
        doc
    );
}

/// The sentences of the page's plain summary, in order.
fn story(html: &str) -> Vec<String> {
    let start = html
        .find("<section class=\"story\">")
        .expect("a plain summary");
    let end = start + html[start..].find("</section>").unwrap();
    html[start..end]
        .split("<p>")
        .skip(1)
        .map(|p| p.split("</p>").next().unwrap().to_string())
        .collect()
}

#[test]
fn the_report_opens_with_what_was_done_in_plain_words() {
    let r = rendered();
    let sentences = story(&r.html);
    assert!(
        (3..=6).contains(&sentences.len()),
        "{} sentences: {sentences:#?}",
        sentences.len()
    );
    // Before the figures, and the same words as report.json.
    assert!(r.html.find("class=\"story\"").unwrap() < r.html.find("class=\"cards\"").unwrap());
    assert_eq!(sentences.len(), r.doc.summary.len());
    for (page, json) in sentences.iter().zip(&r.doc.summary) {
        assert_eq!(*page, html::escape(json));
    }
    // How loud the mix was and the master is, with the figures the cards show.
    let mix = r.doc.mix.measurement.integrated_lufs.unwrap();
    let master = r.doc.streaming_master().unwrap().measurement;
    let first = &r.doc.summary[0];
    assert!(first.contains(&format!("{mix:.1} LUFS")), "{first}");
    assert!(
        first.contains(&format!("{:.1} LUFS", master.integrated_lufs.unwrap())),
        "{first}"
    );
    // How much was limited, and what the platforms do.
    let l = r.doc.loudness.unwrap();
    let depth = format!("{:.1} dB", -l.peak_limiting_db);
    assert!(r.doc.summary[1].contains(&depth), "{:?}", r.doc.summary[1]);
    assert!(r.doc.summary.iter().any(|s| s.contains("Spotify")));
    assert!(r.doc.summary.iter().any(|s| s.contains("tone")));

    // Another render's story follows its figures: no limiting says so, fades are named.
    let mut quiet = r.doc.clone();
    if let Some(l) = &mut quiet.loudness {
        l.peak_limiting_db = 0.0;
    }
    quiet.fades = lathe::render::Fades {
        fade_in_ms: 20.0,
        fade_out_s: 8.0,
    };
    quiet.settings.stereo.width_pct = 120.0;
    let told = lathe::render::report::story::plain_summary(&quiet);
    assert!(told[1].starts_with("Nothing was limited"), "{}", told[1]);
    assert!(told
        .iter()
        .any(|s| s.contains("fades in over 20 ms") && s.contains("fades out over 8.0 s")));
    assert!(told
        .iter()
        .any(|s| s.contains("wider stereo image (120 % width)")));
    assert!(told.len() <= 6, "{told:#?}");
}

#[test]
fn terms_are_explained_and_no_machine_path_is_shown() {
    let r = rendered();
    for term in ["LUFS", "True peak", "LRA", "PLR"] {
        let (_, line) = html::GLOSSARY.iter().find(|(t, _)| *t == term).unwrap();
        // On hover (a card's or a column's title) and in the glossary at the end.
        let title = format!("title=\"{}\"", html::escape(line));
        assert!(r.html.contains(&title), "{term} has no hover text");
        assert!(
            r.html
                .contains(&format!("<dt>{term}</dt><dd>{}</dd>", html::escape(line))),
            "{term} is not in the glossary"
        );
    }
    // The folders of the machine that made it appear nowhere on the page: file names only.
    let dir = r.dir.to_string_lossy();
    assert!(!r.html.contains(dir.as_ref()), "the page shows {dir}");
    let data_dir = data("").to_string_lossy().into_owned();
    assert!(!r.html.contains(data_dir.trim_end_matches('/')));
    assert!(
        !r.html.contains("passes"),
        "solver internals are not for the artist"
    );
}

#[test]
fn the_page_says_which_file_goes_where() {
    let r = rendered();
    let start = r
        .html
        .find("<h2>Which file goes where</h2>")
        .expect("the table");
    let table = &r.html[start..start + r.html[start..].find("</table>").unwrap()];
    // This render made the four WAVs: streaming gets the 44.1 kHz/24-bit one, Bandcamp and
    // video the 48 kHz/24-bit one; no DDP and no MP3, each with how to get one.
    let row = |destination: &str| {
        let at = table
            .find(destination)
            .unwrap_or_else(|| panic!("{destination}"));
        table[at..at + table[at..].find("</tr>").unwrap()].to_string()
    };
    assert!(row("Streaming").contains("francium_excerpt_44k1_24bit.wav"));
    assert!(row("Bandcamp").contains("francium_excerpt_48k_24bit.wav"));
    assert!(row("Video").contains("francium_excerpt_48k_24bit.wav"));
    assert!(row("CD plant").contains("--album"));
    assert!(row("Preview").contains("--formats"));
    assert_eq!(r.doc.destinations.len(), 5);
    // At -14 LUFS the master is not loud: no -2 dBTP advice.
    assert_eq!(r.doc.loud_master_note, None);
    assert!(!r.html.contains("class=\"advice\""));
}

#[test]
fn the_spectrum_compares_mix_and_master_at_equal_loudness() {
    // A master that is the mix 6 dB louder differs by nothing once level-matched.
    let quiet = sine(1000.0, -26.0, 48_000, 5.0);
    let loud = sine(1000.0, -20.0, 48_000, 5.0);
    let mix = lathe::render::analysis::long_term_spectrum(&[quiet.clone(), quiet], 48_000);
    let master = lathe::render::analysis::long_term_spectrum(&[loud.clone(), loud], 48_000);
    let gain = lathe::render::report::level_match_db(-26.0, -20.0);
    assert_eq!(gain, 6.0);
    let matched: Vec<_> = mix.iter().map(|&(f, l)| (f, l + gain)).collect();
    let diff = plot::spectrum_difference(&matched, &master);
    let at_1k = diff
        .iter()
        .min_by(|a, b| (a.0 - 1000.0).abs().total_cmp(&(b.0 - 1000.0).abs()))
        .unwrap();
    assert!(at_1k.1.abs() < 0.01, "{at_1k:?}");
    // Silence has no loudness to match: no gain rather than an infinite one.
    assert_eq!(
        lathe::render::report::level_match_db(f64::NEG_INFINITY, -14.0),
        0.0
    );
    // The page says by how much the mix was moved.
    let r = rendered();
    let mix_lufs = r.doc.mix.measurement.integrated_lufs.unwrap();
    let master_lufs = r
        .doc
        .streaming_master()
        .unwrap()
        .measurement
        .integrated_lufs
        .unwrap();
    let moved = format!("{:.1} dB higher", master_lufs - mix_lufs);
    assert!(r.html.contains(&moved), "{moved}");
}

/// A player's page: the render's streaming master and mix previewed as `player` makes them
/// (a second of each, to keep it quick).
fn page_with_player(script: &str) -> (String, player::PagePlayer) {
    let r = rendered();
    let tone = sine(1000.0, -20.0, 44_100, 1.0);
    let clip = |lufs| {
        player::encode_preview(
            &[tone.clone(), tone.clone()],
            44_100,
            44_100,
            lufs,
            &lathe::render::Cancel::new(),
        )
        .unwrap()
    };
    let preview = Ok(player::Preview {
        mix: clip(-17.8),
        master: clip(-14.0),
    });
    let page_player = player::PagePlayer::new(script.to_string(), &preview);
    let page = html::render_html_with_player(&r.doc, &r.plots, Some(&page_player));
    (page, page_player)
}

#[test]
fn the_player_loads_only_its_audio_beside_the_page_and_sends_nothing() {
    let (page, p) = page_with_player("report.audio.js");
    let player::PagePlayer::Ready { level, .. } = p else {
        panic!("{p:?}");
    };
    assert_eq!((level.mix_db, level.master_db), (0.0, -3.8));
    assert!(page.contains("Level-matched: mix 0.0 dB, master -3.8 dB"));
    // The two pictures and the audio script beside the page, nothing else.
    let refs = references(&page);
    assert_eq!(refs.len(), 3, "{refs:?}");
    assert_eq!(
        refs.iter()
            .filter(|r| r.starts_with("src=\"data:image/png;base64,"))
            .count(),
        2
    );
    assert!(refs
        .iter()
        .any(|r| r.starts_with("src=\"report.audio.js\"")));
    let lower = page.to_ascii_lowercase();
    // The audio, the player's settings (JSON) and the player.
    assert_eq!(lower.matches("<script").count(), 3);
    for forbidden in [
        "https:",
        "<link",
        "<iframe",
        "<object",
        "fetch(",
        "xmlhttprequest",
    ] {
        assert!(!lower.contains(forbidden), "{forbidden}");
    }
    // One address: the self-test's report to 127.0.0.1, sent only when the page's address
    // ends in #selftest=<port> (tests/report_player.rs).
    assert_eq!(lower.matches("http:").count(), 1);
    assert!(page.contains("\"http://127.0.0.1:\" + selftest[1] + \"/result?\""));
    // Without a player, no script at all (the other tests' page).
    assert!(!rendered().html.to_ascii_lowercase().contains("<script"));
}

#[test]
fn a_hostile_audio_script_name_cannot_break_out_of_the_page() {
    let (page, _) = page_with_player("</script><script>alert(1)</script>#?.js");
    assert!(!page.contains("<script>alert"));
    assert_eq!(page.to_ascii_lowercase().matches("<script").count(), 3);
    // Percent-encoded as the script's address, `<` escaped in the JSON settings.
    assert!(
        page.contains("src=\"%3C%2Fscript%3E%3Cscript%3Ealert%281%29%3C%2Fscript%3E%23%3F.js\"")
    );
    assert!(page.contains("\\u003c/script>\\u003cscript>alert(1)\\u003c/script>#?.js"));
}

#[test]
fn a_preview_that_could_not_be_made_leaves_a_note_and_no_script() {
    let r = rendered();
    let failed: player::PreviewResult = Err("the audio is empty".into());
    let p = player::PagePlayer::new("report.audio.js".into(), &failed);
    let page = html::render_html_with_player(&r.doc, &r.plots, Some(&p));
    assert!(page.contains("No player: the audio is empty."));
    assert!(!page.to_ascii_lowercase().contains("<script"));
}

#[test]
fn the_loudness_axis_says_where_each_time_is_in_the_picture() {
    // A steady tone reads from the first full window (3 s) to its end: the master's blue
    // curve starts and ends where the axis the player's playhead uses puts those times.
    let tone = sine(1000.0, -20.0, 48_000, 12.0);
    let series = short_term_series(&[tone.clone(), tone], 48_000);
    let (png, axis) = plot::loudness_plot(&[], &series, None).unwrap();
    assert_eq!(png, plot::loudness_plot_png(&[], &series, None).unwrap());
    let (rgb, w, h) = decode_png(&png);
    assert_eq!((axis.width_px, axis.height_px), (w, h));
    let end = series.last().unwrap().0;
    assert_eq!((axis.start_s, axis.end_s), (0.0, end));
    let x_of = |t: f64| {
        axis.left_px
            + (t - axis.start_s) / (axis.end_s - axis.start_s) * (axis.right_px - axis.left_px)
    };
    let w = w as usize;
    let blue: Vec<usize> = (0..w)
        .filter(|&x| {
            (axis.top_px as usize..axis.bottom_px as usize).any(|y| {
                let p = &rgb[(y * w + x) * 3..][..3];
                p[2] as i32 - p[0] as i32 > 80 && p[2] > 150
            })
        })
        .collect();
    let (first, last) = (blue[0] as f64, *blue.last().unwrap() as f64);
    eprintln!(
        "curve from {first} to {last} px; the axis puts 3 s at {:.1} and {end} s at {:.1} px",
        x_of(3.0),
        x_of(end)
    );
    assert!((first - x_of(3.0)).abs() <= 2.0, "{first} vs {}", x_of(3.0));
    assert!((last - x_of(end)).abs() <= 2.0, "{last} vs {}", x_of(end));
}
