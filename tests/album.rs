//! Album mode end to end on the real excerpts: per-track masters at album-relative loudness,
//! a DDP image whose audio is the delivered CD masters to the bit, and the continuous stream.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};

use lathe::render::album::{self, spec, AlbumJob};
use lathe::render::ddp::read_ddp;
use lathe::render::decode::decode_file;
use lathe::render::{Cancel, Format};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

#[test]
fn an_album_renders_to_tracks_a_ddp_image_and_one_cd_stream() {
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
title = "Francium"
isrc = "GB-XYZ-26-00001"

[[tracks]]
file = "{}"
title = "Vibe Ace"
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

    // Album mode: the louder mix (vibe-ace, -17.5 LUFS) on target, francium (-17.8) the
    // same 0.3 LU below it, as the mixes have it.
    let [a, b] = &report.tracks[..] else {
        panic!("{} tracks", report.tracks.len())
    };
    let lufs = |t: &album::AlbumTrackReport| t.render.deliverables[0].measurement.integrated_lufs;
    assert!((lufs(b) + 14.0).abs() <= 0.1, "{}", lufs(b));
    let mix_gap = -17.48 - -17.79;
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
    let err = album::render_album(&job, &mut |_, _, _| {}).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
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
