//! Album mode end to end on the real excerpts: per-track masters at album-relative loudness,
//! a DDP image whose audio is the delivered CD masters to the bit, the continuous stream, and
//! the album report (`album_report.json`, `album_report.html`) checked against an
//! independent measurement of the delivered files and against the DDP reader.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lathe::render::album::{self, html, plot, report, spec, AlbumJob, AlbumReportDocument};
use lathe::render::ddp::read_ddp;
use lathe::render::decode::decode_file;
use lathe::render::{Cancel, Format};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The excerpts' album, rendered once and shared by the tests that read it.
struct Rendered {
    dir: PathBuf,
    job: AlbumJob,
    report: album::AlbumReport,
}

/// Titles that need escaping in HTML and a character beyond ASCII (CD-TEXT carries ISO 8859-1).
const TITLE_1: &str = "Francium (déjà vu)";
const TITLE_2: &str = "Vibe Ace <Live & \"Loud\">";

fn rendered() -> &'static Rendered {
    static RENDERED: OnceLock<Rendered> = OnceLock::new();
    RENDERED.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("lathe-album-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let text = format!(
            r#"
[album]
title = "Excerpts"
artist = "Lathe Tests"
upc = "4006381333931"
loudness = "album"
target_lufs = -14.0

[[tracks]]
file = "{}"
title = "{TITLE_1}"
isrc = "GB-XYZ-26-00001"
gain_db = -0.5

[[tracks]]
file = "{}"
title = '{TITLE_2}'
isrc = "GB-XYZ-26-00002"
gap_s = 1.0
"#,
            data("francium_excerpt.flac").display(),
            data("vibe-ace_excerpt.flac").display()
        );
        let path = dir.join("album.toml");
        let album = spec::parse(&path, &text, None).unwrap();
        let job = AlbumJob {
            album,
            out_dir: dir.join("out"),
            formats: vec![Format::Wav {
                rate: 44_100,
                bits: 16,
            }],
            force: false,
            cancel: Cancel::new(),
        };
        let report = album::render_album(&job, &mut |_, _, _| {}).unwrap();
        Rendered { dir, job, report }
    })
}

#[test]
fn an_album_renders_to_tracks_a_ddp_image_and_one_cd_stream() {
    let Rendered { dir, job, report } = rendered();

    // Album mode: the louder mix (vibe-ace, -17.5 LUFS) on target, francium (-17.8) the
    // same 0.3 LU below it, as the mixes have it, and 0.5 LU lower for its gain_db.
    let [a, b] = &report.tracks[..] else {
        panic!("{} tracks", report.tracks.len())
    };
    // One naming scheme: each track's folder and every file in it are named after its title
    // (made safe for any file system), as a single's files are after `--title`.
    for (n, (t, title)) in [(a, TITLE_1), (b, TITLE_2)].into_iter().enumerate() {
        let safe = lathe::render::naming::safe_title(title).unwrap();
        let folder = job.out_dir.join(format!("{:02} {safe}", n + 1));
        assert_eq!(
            t.render.deliverables[0].path,
            folder.join(format!("{safe}_44k1_16bit.wav"))
        );
        let paths = t.render.report.clone().unwrap();
        assert_eq!(paths.html, folder.join(format!("{safe}.report.html")));
        assert!(paths.html.exists() && paths.json.exists());
    }
    let lufs = |t: &album::AlbumTrackReport| t.render.deliverables[0].measurement.integrated_lufs;
    assert!((lufs(b) + 14.0).abs() <= 0.1, "{}", lufs(b));
    let mix_gap = -17.48 - -17.79 + 0.5;
    assert!(
        ((lufs(b) - lufs(a)) - mix_gap).abs() <= 0.15,
        "{} vs {}",
        lufs(a),
        lufs(b)
    );

    // The image reads back: two tracks, their ISRCs, a 1 s gap before the second, and audio
    // identical to the delivered 44.1 kHz / 16-bit WAV of each track.
    let image = read_ddp(&dir.join("out/DDP")).unwrap();
    assert_eq!(image.tracks.len(), 2);
    assert_eq!(image.upc_ean(), Some("4006381333931"));
    for (t, track) in image.tracks.iter().zip(&report.tracks) {
        let wav = decode_file(&track.render.deliverables[0].path).unwrap();
        let pcm = image.track_samples(t.number).unwrap();
        let frames = wav.frames();
        assert!(pcm.len() >= frames && pcm.len() - frames < 588);
        for (i, [l, r]) in pcm.iter().take(frames).enumerate() {
            assert_eq!(*l as f32 / 32768.0, wav.channels[0][i]);
            assert_eq!(*r as f32 / 32768.0, wav.channels[1][i]);
        }
        assert!(pcm[frames..].iter().all(|s| *s == [0, 0]));
    }
    assert_eq!(image.tracks[0].isrc.as_deref(), Some("GBXYZ2600001"));
    assert_eq!(image.tracks[1].pregap_sectors(), 75);
    assert!(image.checksums_ok());

    // The continuous stream holds both tracks and the gap.
    let stream = decode_file(&report.cd_stream).unwrap();
    let expected: usize = image
        .tracks
        .iter()
        .map(|t| t.sectors as usize * 588)
        .sum::<usize>()
        + 75 * 588;
    assert_eq!(stream.frames(), expected);
    assert!(report.loudness_png.exists());

    // A second render into the same folder needs --force.
    let err = album::render_album(job, &mut |_, _, _| {}).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
}

#[test]
fn a_bad_isrc_or_upc_is_refused_before_any_track_is_rendered() {
    let dir = std::env::temp_dir().join(format!("lathe-album-bad-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (upc, isrc, needle) in [
        ("4006381333931", "GB-XYZ-26-0001", "track 1"),
        ("4006381333932", "GB-XYZ-26-00001", "check digit"),
    ] {
        let text = format!(
            "[album]\ntitle = \"A\"\nartist = \"B\"\nupc = \"{upc}\"\n\n[[tracks]]\nfile = \"{}\"\n\
             title = \"T\"\nisrc = \"{isrc}\"\n",
            data("vibe-ace_excerpt.flac").display()
        );
        let album = spec::parse(&dir.join("album.toml"), &text, None).unwrap();
        let job = AlbumJob {
            album,
            out_dir: dir.join("out"),
            formats: vec![],
            force: false,
            cancel: Cancel::new(),
        };
        let err = album::render_album(&job, &mut |_, _, _| {}).unwrap_err();
        assert!(err.to_string().to_lowercase().contains(needle), "{err}");
        assert!(!dir.join("out").exists(), "something was written");
    }
}

/// The samples of a 44.1 kHz / 16-bit stereo WAV, read by walking its RIFF chunks here (each
/// chunk word-aligned, an odd-sized one followed by a pad byte, as the RIFF specification
/// has it; hound 3.5.1 skips no pad byte, so it cannot read past the odd-sized `id3 ` chunk
/// these files carry).
fn read_cd_wav(path: &Path) -> Vec<i16> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!((&bytes[0..4], &bytes[8..12]), (&b"RIFF"[..], &b"WAVE"[..]));
    let u32_at = |i: usize| u32::from_le_bytes(bytes[i..i + 4].try_into().unwrap()) as usize;
    let u16_at = |i: usize| u16::from_le_bytes(bytes[i..i + 2].try_into().unwrap());
    let mut at = 12;
    let mut format = None;
    while at + 8 <= bytes.len() {
        let (id, len) = (&bytes[at..at + 4], u32_at(at + 4));
        let body = at + 8;
        if id == b"fmt " {
            // Format tag, channels, rate, bits per sample.
            format = Some((
                u16_at(body),
                u16_at(body + 2),
                u32_at(body + 4),
                u16_at(body + 14),
            ));
        }
        if id == b"data" {
            assert_eq!(format, Some((1, 2, 44_100, 16)), "{}", path.display());
            return bytes[body..body + len]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
        }
        at = body + len + (len & 1);
    }
    panic!("{}: no data chunk", path.display());
}

/// Integrated loudness, loudness range, true peak and duration of a 16-bit WAV, read by
/// [`read_cd_wav`] and measured with the ebur128 crate directly: a second path to the
/// figures beside the renderer's own decoder and measurement.
fn independent_measurement(path: &Path) -> (f64, f64, f64, f64) {
    use ebur128::{EbuR128, Mode};
    let samples = read_cd_wav(path);
    let mut meter = EbuR128::new(2, 44_100, Mode::I | Mode::LRA | Mode::TRUE_PEAK).unwrap();
    meter.add_frames_i16(&samples).unwrap();
    let tp = (0..2)
        .map(|c| meter.true_peak(c).unwrap())
        .fold(0.0, f64::max);
    (
        meter.loudness_global().unwrap(),
        meter.loudness_range().unwrap(),
        20.0 * tp.log10(),
        samples.len() as f64 / 2.0 / 44_100.0,
    )
}

/// Agreement of the report's figures with [`independent_measurement`] (the same standard
/// measured twice: what is left is rounding).
const AGREEMENT_LU: f64 = 0.05;

#[test]
fn the_album_report_json_reads_back_and_agrees_with_the_delivered_files_and_the_ddp_image() {
    let r = rendered();
    let out = &r.job.out_dir;
    assert_eq!(r.report.report_json, out.join(report::JSON_NAME));
    let text = std::fs::read_to_string(&r.report.report_json).unwrap();
    let doc = AlbumReportDocument::from_json(&text).expect("album_report.json parses");
    assert_eq!(doc, r.report.document);
    assert_eq!(doc.to_json().unwrap() + "\n", text);

    assert_eq!(doc.loudness_mode, album::AlbumLoudness::Album);
    assert_eq!(doc.target_lufs, -14.0);
    assert_eq!(doc.upc_ean.as_deref(), Some("4006381333931"));
    assert_eq!(doc.tracks.len(), 2);
    assert_eq!(
        (doc.tracks[0].title.as_str(), doc.tracks[1].title.as_str()),
        (TITLE_1, TITLE_2)
    );
    assert_eq!((doc.tracks[0].gain_db, doc.tracks[1].gain_db), (-0.5, 0.0));

    // Start times, gaps and lengths are the DDP image's, as its reader parses them.
    let image = read_ddp(&out.join("DDP")).unwrap();
    assert_eq!(doc.lead_out.sectors, image.lead_out.sectors());
    assert_eq!(doc.lead_out.msf, image.lead_out.to_string());
    for (t, on_disc) in doc.tracks.iter().zip(&image.tracks) {
        assert_eq!(t.number, usize::from(on_disc.number));
        assert_eq!(t.start.sectors, on_disc.index1.sectors());
        assert_eq!(t.start.msf, on_disc.index1.to_string());
        assert_eq!(t.start.seconds, f64::from(on_disc.index1.sectors()) / 75.0);
        assert_eq!(t.gap_before.sectors, on_disc.pregap_sectors());
        assert_eq!(t.cd_length.sectors, on_disc.sectors);
        assert_eq!(t.isrc, on_disc.isrc);
    }
    // Track 1 after the disc's 2 s pre-gap; track 2 after track 1 and its own 1 s gap.
    assert_eq!(doc.tracks[0].start.msf, "00:02:00");
    assert_eq!(doc.tracks[0].gap_before.sectors, 150);
    assert_eq!(doc.tracks[1].gap_before.msf, "00:01:00");
    assert_eq!(
        doc.tracks[1].start.sectors,
        150 + doc.tracks[0].cd_length.sectors + 75
    );

    // Every track's figures are those of its delivered 44.1 kHz / 16-bit file.
    for (t, rendered_track) in doc.tracks.iter().zip(&r.report.tracks) {
        assert_eq!(t.target_lufs, rendered_track.target_lufs);
        let m = &t.measurement;
        let (lufs, lra, tp, seconds) = independent_measurement(Path::new(&t.file));
        assert!(
            (m.integrated_lufs.unwrap() - lufs).abs() <= AGREEMENT_LU,
            "{m:?} {lufs}"
        );
        assert!(
            (m.loudness_range_lu.unwrap() - lra).abs() <= AGREEMENT_LU,
            "{m:?} {lra}"
        );
        assert!(
            (m.true_peak_dbtp.unwrap() - tp).abs() <= AGREEMENT_LU,
            "{m:?} {tp}"
        );
        assert!((m.plr_db.unwrap() - (tp - lufs)).abs() <= 2.0 * AGREEMENT_LU);
        assert!((m.duration_s - seconds).abs() < 1e-9);
        assert_eq!(m.sample_rate, 44_100);
        // The CD length is the audio filled to whole frames.
        let frames = (seconds * 75.0).ceil() as u32;
        assert_eq!(t.cd_length.sectors, frames);
        assert!((t.mix_to_master_db.unwrap() - (lufs - t.mix_lufs.unwrap())).abs() <= 0.05);
        assert!(tp <= t.ceiling_dbtp);
    }

    // The album's figures are those of the continuous CD stream.
    assert_eq!(doc.cd_stream, r.report.cd_stream.to_string_lossy());
    let (lufs, lra, tp, seconds) = independent_measurement(&r.report.cd_stream);
    let a = &doc.album;
    assert!(
        (a.integrated_lufs.unwrap() - lufs).abs() <= AGREEMENT_LU,
        "{a:?} {lufs}"
    );
    assert!(
        (a.loudness_range_lu.unwrap() - lra).abs() <= AGREEMENT_LU,
        "{a:?} {lra}"
    );
    assert!(
        (a.true_peak_dbtp.unwrap() - tp).abs() <= AGREEMENT_LU,
        "{a:?} {tp}"
    );
    assert!((doc.lead_out.seconds - 2.0 - seconds).abs() < 1e-9);
    // Two tracks 0.8 LU apart make an album between them.
    let (t1, t2) = (
        doc.tracks[0].measurement.integrated_lufs.unwrap(),
        doc.tracks[1].measurement.integrated_lufs.unwrap(),
    );
    assert!(
        lufs > t1.min(t2) - 0.05 && lufs < t1.max(t2) + 0.05,
        "{lufs} {t1} {t2}"
    );

    // Everything came through the staging folder: nothing of it is left.
    let leftovers: Vec<_> = std::fs::read_dir(out)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Every quoted `src` or `href` attribute and every CSS `url(` or `@import` in the page, with
/// what follows it (as tests/report.rs).
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

/// Decodes a PNG to RGB8 and its size.
fn decode_png(bytes: &[u8]) -> (Vec<u8>, u32, u32) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgb);
    buf.truncate(info.buffer_size());
    (buf, info.width, info.height)
}

/// The PNG embedded in the page as a data URI, decoded from base64.
fn embedded_png(page: &str) -> Vec<u8> {
    use base64::Engine as _;
    let start = page.find("src=\"data:image/png;base64,").unwrap() + 27;
    let end = start + page[start..].find('"').unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(&page[start..end])
        .unwrap()
}

#[test]
fn the_album_report_html_is_self_contained_with_its_loudness_picture() {
    let r = rendered();
    let page = std::fs::read_to_string(&r.report.report_html).unwrap();
    let refs = references(&page);
    assert_eq!(refs.len(), 1, "{refs:?}");
    assert!(
        refs[0].starts_with("src=\"data:image/png;base64,"),
        "{refs:?}"
    );
    let lower = page.to_ascii_lowercase();
    for forbidden in ["http:", "https:", "<script", "<link", "<iframe", "<object"] {
        assert!(!lower.contains(forbidden), "{forbidden}");
    }
    // The picture in the page is the one beside it, and it decodes.
    let png = embedded_png(&page);
    assert_eq!(png, std::fs::read(&r.report.loudness_png).unwrap());
    let (rgb, w, h) = decode_png(&png);
    assert_eq!((w, h), (plot::ALBUM_PLOT_WIDTH, plot::ALBUM_PLOT_HEIGHT));
    // The short-term curve (the master's strong blue) runs across the plot from its first
    // reading (5 s into the 32 s programme), and there is text: the track markers, axes and
    // legend.
    let blue_columns = (0..w as usize)
        .filter(|&x| {
            rgb.chunks(3)
                .skip(x)
                .step_by(w as usize)
                .any(|p| p[2] as i32 - p[0] as i32 > 80 && p[2] > 150)
        })
        .count();
    assert!(blue_columns > w as usize * 2 / 3, "{blue_columns}");
    let ink = rgb
        .chunks(3)
        .filter(|p| p[0] < 100 && p[1] < 100 && p[2] < 110)
        .count();
    assert!(ink > 3_000, "{ink}");

    // Every track with its (escaped) title, start, ISRC and figures.
    let doc = &r.report.document;
    for t in &doc.tracks {
        assert!(
            page.contains(&lathe::render::report::html::escape(&t.title)),
            "{}",
            t.title
        );
        assert!(page.contains(&t.start.msf), "{}", t.start.msf);
        assert!(page.contains(&format!("{:.2} s", t.start.seconds)));
        let isrc = lathe::render::ddp::redbook::format_isrc(t.isrc.as_deref().unwrap());
        assert!(page.contains(&isrc), "{isrc}");
        let lufs = format!("{:.1}", t.measurement.integrated_lufs.unwrap());
        assert!(page.contains(&lufs), "{lufs}");
    }
    assert!(page.contains("Vibe Ace &lt;Live &amp; &quot;Loud&quot;&gt;"));
    assert!(!page.contains(TITLE_2));
    assert!(page.contains("déjà vu"));
}

#[test]
fn hostile_titles_artists_and_warnings_are_escaped() {
    let mut doc = rendered().report.document.clone();
    doc.title = "<script>alert('album')</script>".to_string();
    doc.artist = "</p><iframe src=x>".to_string();
    doc.tracks[0].title = "<img src=x onerror=alert(1)>".to_string();
    doc.tracks[1].artist = "A & B".to_string();
    doc.tracks[1].mix = "/mixes/<b>bold<b>.flac".to_string();
    doc.warnings = vec!["<object data=x>".to_string()];
    doc.year = Some("\"2026\"".to_string());
    let page = html::render_album_html(
        &doc,
        &std::fs::read(&rendered().report.loudness_png).unwrap(),
    );
    let lower = page.to_ascii_lowercase();
    for forbidden in ["<script", "<iframe", "<img src=x", "<object", "<b>"] {
        assert!(!lower.contains(forbidden), "{forbidden}");
    }
    assert!(page.contains("&lt;script&gt;alert(&#39;album&#39;)&lt;/script&gt;"));
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(page.contains("A &amp; B"));
    assert!(page.contains("&lt;b&gt;bold&lt;b&gt;.flac"));
    assert!(page.contains("&quot;2026&quot;"));
    assert_eq!(references(&page).len(), 1);
}

/// Track folders are named from the titles, which an album file may set to anything: each
/// becomes one plain folder name inside the output folder, never a path out of it, and never
/// longer than a file system takes.
#[test]
fn titles_cannot_lead_track_folders_out_of_the_output_folder() {
    use std::path::Component;
    let long = "ü".repeat(10_000);
    let titles = [
        "../../../etc",
        "..",
        ".",
        "",
        "   ",
        "/etc/passwd",
        "C:\\Windows\\System32",
        "\\\\server\\share",
        "a\0b",
        "line\nbreak\r\x1b[2J",
        "~/.ssh",
        long.as_str(),
        "Night/Drive: II",
    ];
    let mut text = String::from("[album]\ntitle = \"A\"\nartist = \"B\"\n");
    for t in &titles {
        // TOML basic strings take any character escaped as \uXXXX.
        let escaped: String = t.chars().map(|c| format!("\\U{:08X}", c as u32)).collect();
        text.push_str(&format!(
            "\n[[tracks]]\nfile = \"x.flac\"\ntitle = \"{escaped}\"\n"
        ));
    }
    let album = spec::parse(Path::new("/music/album.toml"), &text, None).unwrap();
    let out = Path::new("/music/out");
    let mut seen = std::collections::HashSet::new();
    for (i, (track, title)) in album.tracks.iter().zip(titles).enumerate() {
        assert_eq!(
            track.title, title,
            "the album file keeps the title as written"
        );
        let folder = album::track_folder(i + 1, &track.title);
        let components: Vec<Component> = Path::new(&folder).components().collect();
        assert!(
            matches!(components[..], [Component::Normal(_)]),
            "{title:?} -> {folder:?}"
        );
        assert_eq!(
            out.join(&folder).parent(),
            Some(out),
            "{title:?} -> {folder:?}"
        );
        assert!(!folder.contains('\0') && !folder.chars().any(char::is_control));
        assert!(folder.len() <= 255, "{title:?}: {} bytes", folder.len());
        assert_eq!(folder, folder.trim(), "no leading or trailing spaces");
        assert!(seen.insert(folder.clone()), "two tracks share {folder:?}");
    }
}
