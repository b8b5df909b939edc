//! DDP 2.00 images from real material: a three-track disc written, read back field by field and
//! sample by sample against the 44.1 kHz/16-bit WAVs delivered for its tracks, its checksums
//! and CD-TEXT CRCs checked independently, and every Red Book violation refused with nothing
//! written.
#![cfg(feature = "render")]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use lathe::render::ddp::{self, read_ddp, redbook, DdpError, Disc, DiscTrack, Violation};
use lathe::render::encode::{wav::write_wav, PcmOptions};
use lathe::render::{decode::decode_file, resample::resample, Metadata};
use md5::{Digest, Md5};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lathe-ddp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

const UPC: &str = "4006381333931";

/// The tracks as delivered: 44.1 kHz/16-bit WAVs written by the renderer's WAV writer, and
/// their samples as hound (not the renderer's decoder) reads them.
struct Fixture {
    wavs: Vec<PathBuf>,
    samples: Vec<Vec<[i16; 2]>>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = scratch("wavs");
        let vibe = decode_file(&data("vibe-ace_excerpt.flac")).unwrap();
        assert_eq!(vibe.sample_rate, 44_100);
        let francium = decode_file(&data("francium_excerpt.flac")).unwrap();
        let francium = resample(&francium.channels, francium.sample_rate, 44_100).unwrap();
        // Track 2 is not a whole number of CD frames (7.5 s + 321 samples), so its last frame
        // is filled with silence; track 3 follows it without a gap.
        let cut = 44_100 * 15 / 2 + 321;
        let pieces: Vec<Vec<Vec<f32>>> = vec![
            vibe.channels.clone(),
            francium.iter().map(|c| c[..cut].to_vec()).collect(),
            francium.iter().map(|c| c[cut..].to_vec()).collect(),
        ];
        let mut wavs = Vec::new();
        let mut samples = Vec::new();
        for (i, channels) in pieces.iter().enumerate() {
            let path = dir.join(format!("track{}_44k1_16.wav", i + 1));
            write_wav(
                &path,
                channels,
                44_100,
                PcmOptions::new(16),
                &Metadata::default(),
            )
            .unwrap();
            let mut reader = hound::WavReader::open(&path).unwrap();
            let spec = reader.spec();
            assert_eq!(
                (spec.sample_rate, spec.channels, spec.bits_per_sample),
                (44_100, 2, 16)
            );
            let flat: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
            samples.push(flat.chunks_exact(2).map(|f| [f[0], f[1]]).collect());
            wavs.push(path);
        }
        Fixture { wavs, samples }
    })
}

fn disc() -> Disc {
    let f = fixture();
    let track = |i: usize, title: &str, performer: &str, isrc: Option<&str>, gap: u32| DiscTrack {
        pcm: f.samples[i].clone(),
        title: title.into(),
        performer: performer.into(),
        isrc: isrc.map(str::to_string),
        pregap_sectors: gap,
    };
    Disc {
        title: "Lathe Test Disc".into(),
        performer: "Various Artists".into(),
        upc_ean: Some(UPC.into()),
        tracks: vec![
            track(0, "Vibe Ace", "Kevin MacLeod", Some("GB-XYZ-26-00001"), 150),
            track(
                1,
                "Francium (Teil 1)",
                "Software-Entwicklungskit",
                Some("gbxyz2600002"),
                150,
            ),
            track(
                2,
                "Francium (Teil 2, Schluss)",
                "Software-Entwicklungskit",
                None,
                0,
            ),
        ],
    }
}

/// Writes the test disc into `<scratch>/DDP` once per test that needs it.
fn written(name: &str) -> (PathBuf, ddp::DdpSummary) {
    let dir = scratch(name).join("DDP");
    let summary = ddp::write_ddp(&disc(), &dir, false).unwrap();
    (dir, summary)
}

#[test]
fn every_track_reads_back_bit_identical_to_its_wav() {
    let (dir, summary) = written("audio");
    let f = fixture();
    let image = read_ddp(&dir).unwrap();
    assert_eq!(image.tracks.len(), 3);
    assert_eq!(image.id.level, "DDP 2.00");
    for (i, track) in image.tracks.iter().enumerate() {
        let wav = &f.samples[i];
        let got = image.track_samples(track.number).unwrap();
        // The track's audio, sample for sample, then silence to the end of its last frame.
        assert_eq!(
            &got[..wav.len()],
            &wav[..],
            "track {} vs {:?}",
            i + 1,
            f.wavs[i]
        );
        let padding = &got[wav.len()..];
        assert!(padding.len() < redbook::SAMPLES_PER_SECTOR);
        assert!(padding.iter().all(|s| *s == [0, 0]), "track {}", i + 1);
        assert_eq!(padding.len(), summary.tracks[i].padding_samples);
    }
    // The image opens with track 1's 2-second pre-gap, silent, and holds nothing but the gaps,
    // the tracks and their padding.
    let raw = std::fs::read(dir.join("IMAGE.DAT")).unwrap();
    assert_eq!(raw.len() % 2352, 0);
    assert!(raw[..150 * 2352].iter().all(|&b| b == 0));
    let t2 = &image.tracks[1];
    assert_eq!(t2.pregap_sectors(), 150);
    let gap = t2.index0.unwrap().sectors() as usize * 2352..t2.index1.sectors() as usize * 2352;
    assert!(raw[gap].iter().all(|&b| b == 0), "track 2's gap is silent");
    let audio: usize = f.samples.iter().map(Vec::len).sum();
    let padding: usize = summary.tracks.iter().map(|t| t.padding_samples).sum();
    assert_eq!(raw.len(), (300 * 588 + audio + padding) * 4);
    assert_eq!(
        summary.tracks[1].padding_samples,
        588 - (44_100 * 15 / 2 + 321) % 588
    );
}

#[test]
fn the_table_of_contents_reads_back() {
    let (dir, summary) = written("toc");
    let f = fixture();
    let image = read_ddp(&dir).unwrap();
    let t = &image.tracks;
    assert_eq!(
        t[0].index0.map(|m| m.to_string()).as_deref(),
        Some("00:00:00")
    );
    assert_eq!(t[0].index1.to_string(), "00:02:00");
    let sectors = |n: usize| redbook::sectors_for_samples(n);
    assert_eq!(
        t[1].index0.unwrap().sectors(),
        150 + sectors(f.samples[0].len())
    );
    assert_eq!(t[1].index1.sectors(), t[1].index0.unwrap().sectors() + 150);
    assert_eq!(t[2].index0, None, "gapless");
    assert_eq!(
        t[2].index1.sectors(),
        t[1].index1.sectors() + sectors(f.samples[1].len())
    );
    assert_eq!(
        image.lead_out.sectors(),
        t[2].index1.sectors() + sectors(f.samples[2].len())
    );
    assert_eq!(image.lead_out, summary.lead_out);
    assert_eq!(t[0].isrc.as_deref(), Some("GBXYZ2600001"));
    assert_eq!(t[1].isrc.as_deref(), Some("GBXYZ2600002"));
    assert_eq!(t[2].isrc, None);
    assert_eq!(image.upc_ean(), Some(UPC));
    assert_eq!(image.id.upc_ean.as_deref(), Some(UPC));
    let text = image.cd_text.as_ref().unwrap();
    assert_eq!(text.album_title, "Lathe Test Disc");
    assert_eq!(text.album_performer, "Various Artists");
    assert_eq!(t[2].title, "Francium (Teil 2, Schluss)");
    assert_eq!(t[0].performer, "Kevin MacLeod");
    // Track 2 is not whole frames and track 3 follows without a gap: the engineer is told.
    assert_eq!(summary.warnings.len(), 1, "{:?}", summary.warnings);
    assert!(summary.warnings[0].contains("track 2"));
}

fn field(bytes: &[u8], at: usize, width: usize) -> &str {
    std::str::from_utf8(&bytes[at..at + width]).unwrap()
}

#[test]
fn every_field_sits_at_its_documented_offset() {
    let (dir, summary) = written("offsets");
    let read = |name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(
        listing(&dir),
        [
            "CDTEXT.BIN",
            "CHECKSUM.MD5",
            "DDPID",
            "DDPMS",
            "IMAGE.DAT",
            "PQDESCR"
        ]
    );

    // DDPID: level 0-7, UPC/EAN 8-20, disc type 87-88, the rest blank.
    let id = read("DDPID");
    assert_eq!(id.len(), 128);
    assert_eq!(field(&id, 0, 8), "DDP 2.00");
    assert_eq!(field(&id, 8, 13), UPC);
    assert_eq!(field(&id, 87, 2), "CD");
    assert!(id[21..87].iter().chain(&id[89..]).all(|&b| b == b' '));

    // DDPMS: CD-TEXT, PQ, audio. MPV 0-3, DST 4-5, DSL 14-21, DSS 22-29, SUB 30-37,
    // CDM 38-39, SSM 40, SCR 41, PRE2 46-49, TRK 55-56, SIZ 71-73, DSI 74-90.
    let ms = read("DDPMS");
    assert_eq!(ms.len(), 3 * 128);
    let p: Vec<&[u8]> = ms.chunks(128).collect();
    let cd_text_len = read("CDTEXT.BIN").len();
    let pq_len = read("PQDESCR").len();
    assert_eq!(field(p[0], 0, 6), "VVVMS0");
    assert_eq!(field(p[0], 14, 8), format!("{cd_text_len:08}"));
    assert_eq!(field(p[0], 30, 8), "CDTEXT  ");
    assert_eq!(field(p[0], 55, 2), "00");
    assert_eq!(field(p[0], 71, 20), "017CDTEXT.BIN       ");
    assert_eq!(field(p[1], 0, 6), "VVVMS0");
    assert_eq!(field(p[1], 14, 8), format!("{pq_len:08}"));
    assert_eq!(field(p[1], 30, 8), "PQ DESCR");
    assert_eq!(field(p[1], 71, 20), "017PQDESCR          ");
    assert_eq!(field(p[2], 0, 6), "VVVMD0");
    let sectors = summary.lead_out.sectors();
    assert_eq!(field(p[2], 14, 16), format!("{sectors:08}00000000"));
    assert_eq!(field(p[2], 30, 8), "        ");
    assert_eq!(field(p[2], 38, 4), "DA70");
    assert_eq!(field(p[2], 46, 4), " 150");
    assert_eq!(field(p[2], 71, 20), "017IMAGE.DAT        ");
    assert_eq!(read("IMAGE.DAT").len(), sectors as usize * 2352);

    // PQ: VVVS 0-3, track 4-5, index 6-7, hours 8-9 blank, MMSSFF 10-15, control 16-17,
    // ISRC 20-31, UPC/EAN 32-44; 64 bytes each.
    let pq = read("PQDESCR");
    let q: Vec<&[u8]> = pq.chunks(64).collect();
    let t = &summary.tracks;
    let msf = |m: ddp::Msf| m.to_string().replace(':', "");
    let expected = [
        ("00", "00", "000000".to_string(), "", UPC),
        ("01", "00", "000000".into(), "GBXYZ2600001", ""),
        ("01", "01", "000200".into(), "", ""),
        ("02", "00", msf(t[1].index0.unwrap()), "GBXYZ2600002", ""),
        ("02", "01", msf(t[1].index1), "", ""),
        ("03", "01", msf(t[2].index1), "", ""),
        ("AA", "01", msf(summary.lead_out), "", ""),
        ("AA", "01", msf(summary.lead_out), "", ""),
    ];
    assert_eq!(q.len(), expected.len());
    for (packet, (track, index, time, isrc, upc)) in q.iter().zip(expected) {
        assert_eq!(packet.len(), 64);
        assert_eq!(field(packet, 0, 4), "VVVS");
        assert_eq!(field(packet, 4, 2), track);
        assert_eq!(field(packet, 6, 2), index);
        assert_eq!(field(packet, 8, 2), "  ");
        assert_eq!(field(packet, 10, 6), time);
        assert_eq!(field(packet, 16, 2), "01");
        assert_eq!(field(packet, 20, 12).trim_end(), isrc);
        assert_eq!(field(packet, 32, 13).trim_end(), upc);
    }

    // CD-TEXT: 18-byte packs, type 0, track 1, sequence 2, character position 3, text 4-15.
    let text = read("CDTEXT.BIN");
    assert_eq!(text.len() % 18, 0);
    assert_eq!(&text[0..4], &[0x80, 0, 0, 0]);
    assert_eq!(&text[4..16], b"Lathe Test D");
    assert_eq!(&text[18..22], &[0x80, 0, 1, 12], "album title continues");
    for (i, pack) in text.chunks(18).enumerate() {
        assert_eq!(usize::from(pack[2]), i, "sequence numbers count the packs");
    }
}

/// CRC-16/CCITT written out again from MMC-3 Annex J: x^16 + x^12 + x^5 + 1 over bytes 0-15,
/// register starting at 0, all bits inverted, stored high byte first.
fn cd_text_crc(bytes: &[u8]) -> u16 {
    let mut reg = 0u32;
    for &byte in bytes {
        for bit in (0..8).rev() {
            let feedback = ((reg >> 15) & 1) ^ ((u32::from(byte) >> bit) & 1);
            reg = (reg << 1) & 0xFFFF;
            if feedback == 1 {
                reg ^= 0x1021;
            }
        }
    }
    !(reg as u16)
}

#[test]
fn cd_text_crcs_verify() {
    let (dir, summary) = written("cdtext");
    let text = std::fs::read(dir.join("CDTEXT.BIN")).unwrap();
    let packs: Vec<&[u8]> = text.chunks(18).collect();
    assert_eq!(packs.len(), summary.cd_text_packs);
    for (i, pack) in packs.iter().enumerate() {
        let stored = u16::from_be_bytes([pack[16], pack[17]]);
        assert_eq!(stored, cd_text_crc(&pack[..16]), "pack {i}");
    }
    // The size information counts what is there.
    let info: Vec<u8> = packs[packs.len() - 3..]
        .iter()
        .flat_map(|p| p[4..16].to_vec())
        .collect();
    let count = |kind: u8| packs.iter().filter(|p| p[0] == kind).count() as u8;
    assert_eq!(&info[0..3], &[0x00, 1, 3], "ISO 8859-1, tracks 1 to 3");
    assert_eq!(info[4], count(0x80));
    assert_eq!(info[5], count(0x81));
    assert_eq!(info[19], 3);
    assert_eq!(info[20] as usize, packs.len() - 1);

    // A damaged pack is refused by the reader.
    let copy = scratch("cdtext-damaged").join("DDP");
    copy_dir(&dir, &copy);
    let mut damaged = text.clone();
    damaged[18 + 6] ^= 0x20;
    std::fs::write(copy.join("CDTEXT.BIN"), damaged).unwrap();
    let e = read_ddp(&copy).unwrap_err();
    assert!(
        e.to_string().contains("pack 2") && e.to_string().contains("CRC"),
        "{e}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn checksums_verify_and_catch_a_changed_byte() {
    let (dir, summary) = written("md5");
    let text = std::fs::read_to_string(dir.join("CHECKSUM.MD5")).unwrap();
    let names = ["DDPID", "DDPMS", "CDTEXT.BIN", "PQDESCR", "IMAGE.DAT"];
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), names.len());
    for (line, name) in lines.iter().zip(names) {
        // md5sum's binary-mode line, with a digest computed here from the file.
        let digest = format!("{:x}", Md5::digest(std::fs::read(dir.join(name)).unwrap()));
        assert_eq!(*line, format!("{digest} *{name}"));
    }
    assert!(text.ends_with('\n'));
    assert_eq!(summary.checksums.len(), 5);
    let image = read_ddp(&dir).unwrap();
    assert!(image.checksums_ok());

    let copy = scratch("md5-changed").join("DDP");
    copy_dir(&dir, &copy);
    let mut raw = std::fs::read(copy.join("IMAGE.DAT")).unwrap();
    let middle = raw.len() / 2;
    raw[middle] ^= 1;
    std::fs::write(copy.join("IMAGE.DAT"), raw).unwrap();
    let image = read_ddp(&copy).unwrap();
    assert!(!image.checksums_ok());
    let failed: Vec<&str> = image
        .checksums
        .as_ref()
        .unwrap()
        .iter()
        .filter(|c| !c.ok())
        .map(|c| c.file.as_str())
        .collect();
    assert_eq!(failed, ["IMAGE.DAT"]);
}

/// `disc` is refused for `expected` (and only that), with a message saying so, and nothing is
/// written: no image, no staging folder.
fn refused(name: &str, disc: &Disc, expected: fn(&Violation) -> bool, words: &str) {
    let parent = scratch(name);
    let dir = parent.join("DDP");
    let e = ddp::write_ddp(disc, &dir, false).unwrap_err();
    let problems = e.violations();
    assert_eq!(problems.len(), 1, "{name}: {e}");
    assert!(expected(&problems[0]), "{name}: {e}");
    assert!(e.to_string().contains(words), "{name}: {e}");
    assert!(
        listing(&parent).is_empty(),
        "{name}: {:?}",
        listing(&parent)
    );
}

fn seconds(s: f64) -> Vec<[i16; 2]> {
    vec![[0, 0]; (s * 44_100.0).round() as usize]
}

fn plain(pcm: Vec<[i16; 2]>, gap: u32) -> DiscTrack {
    DiscTrack {
        pcm,
        title: String::new(),
        performer: String::new(),
        isrc: None,
        pregap_sectors: gap,
    }
}

#[test]
fn red_book_violations_are_refused_before_anything_is_written() {
    let mut base = disc();
    base.tracks.truncate(1);

    let mut d = base.clone();
    d.tracks = (0..100)
        .map(|i| plain(seconds(4.0), if i == 0 { 150 } else { 0 }))
        .collect();
    refused(
        "too-many",
        &d,
        |v| matches!(v, Violation::TooManyTracks { count: 100 }),
        "at most 99",
    );

    let mut d = base.clone();
    d.tracks.push(plain(seconds(3.99), 150));
    refused(
        "too-short",
        &d,
        |v| matches!(v, Violation::TrackTooShort { track: 2, .. }),
        "track 2 is 3.99 s long",
    );

    let mut d = base.clone();
    d.tracks.clear();
    refused("no-tracks", &d, |v| *v == Violation::NoTracks, "no tracks");

    // 80 minutes of gap: the programme counts pre-gaps.
    let mut d = base.clone();
    d.tracks.push(plain(seconds(4.0), 80 * 60 * 75));
    refused(
        "too-long",
        &d,
        |v| matches!(v, Violation::ProgramTooLong { .. }),
        "must end before 79:57:00",
    );

    let mut d = base.clone();
    d.tracks[0].isrc = Some("GB-XYZ-26-0001".into());
    refused(
        "bad-isrc",
        &d,
        |v| matches!(v, Violation::BadIsrc { track: 1, .. }),
        "CC-XXX-YY-NNNNN",
    );

    let mut d = base.clone();
    d.upc_ean = Some("4006381333932".into());
    refused(
        "bad-upc",
        &d,
        |v| matches!(v, Violation::BadUpc { .. }),
        "check digit is 2, it should be 1",
    );

    let mut d = base.clone();
    d.tracks[0].pregap_sectors = 149;
    refused(
        "first-gap",
        &d,
        |v| *v == Violation::FirstPregap { sectors: 149 },
        "2 seconds",
    );

    let mut d = base.clone();
    d.tracks[0].title = "Vibe Ace \u{2013} Edit".into();
    refused(
        "cd-text",
        &d,
        |v| matches!(v, Violation::CdTextCharacter { ch: '\u{2013}', .. }),
        "title of track 1",
    );

    // Gaps given in time must be whole frames.
    assert_eq!(redbook::gap_sectors_from_seconds(1.2), Ok(90));
    assert!(
        redbook::gap_sectors_from_seconds(1.5).is_err(),
        "112.5 frames"
    );
    let e = redbook::gap_sectors_from_seconds(1.505).unwrap_err();
    assert!(e.to_string().contains("whole number of CD frames"), "{e}");

    // Several problems are all listed at once.
    let mut d = base.clone();
    d.upc_ean = Some("123".into());
    d.tracks[0].isrc = Some("nonsense".into());
    let e = ddp::validate(&d).unwrap_err();
    assert_eq!(e.violations().len(), 2, "{e}");
}

#[test]
fn the_length_limit_is_79_57() {
    // Track 1's 2 s pre-gap and 4 s of audio, then a 4 s track after a gap that brings the
    // programme to 79:56:74 (passes) or 79:57:00 (refused).
    let limit = redbook::MAX_PROGRAM.sectors();
    let d = |total: u32| Disc {
        title: String::new(),
        performer: String::new(),
        upc_ean: None,
        tracks: vec![
            plain(seconds(4.0), 150),
            plain(seconds(4.0), total - 150 - 300 - 300),
        ],
    };
    assert_eq!(
        redbook::program_sectors(&d(limit - 1)),
        u64::from(limit - 1)
    );
    assert!(ddp::validate(&d(limit - 1)).is_ok());
    let e = ddp::validate(&d(limit)).unwrap_err();
    assert!(e.to_string().contains("runs 79:57:00"), "{e}");
}

#[test]
fn an_image_is_replaced_only_when_forced() {
    let (dir, _) = written("replace");
    let before = std::fs::read(dir.join("CHECKSUM.MD5")).unwrap();
    let mut other = disc();
    other.title = "Another Title".into();
    let e = ddp::write_ddp(&other, &dir, false).unwrap_err();
    assert!(matches!(e, DdpError::OutputExists { .. }), "{e}");
    assert!(e.to_string().contains("--force"), "{e}");
    assert_eq!(std::fs::read(dir.join("CHECKSUM.MD5")).unwrap(), before);

    ddp::write_ddp(&other, &dir, true).unwrap();
    let image = read_ddp(&dir).unwrap();
    assert_eq!(image.cd_text.as_ref().unwrap().album_title, "Another Title");
    assert!(image.checksums_ok());
    // Nothing left beside it: no staging folder, no replaced copy.
    assert_eq!(listing(dir.parent().unwrap()), ["DDP"]);
}

#[test]
fn a_disc_without_text_or_codes_has_no_cd_text_stream() {
    let mut d = disc();
    d.title.clear();
    d.performer.clear();
    d.upc_ean = None;
    for t in &mut d.tracks {
        t.title.clear();
        t.performer.clear();
        t.isrc = None;
    }
    let dir = scratch("plain").join("DDP");
    let summary = ddp::write_ddp(&d, &dir, false).unwrap();
    assert_eq!(summary.cd_text_packs, 0);
    assert!(!dir.join("CDTEXT.BIN").exists());
    let ms = std::fs::read(dir.join("DDPMS")).unwrap();
    assert_eq!(ms.len(), 2 * 128);
    let image = read_ddp(&dir).unwrap();
    assert_eq!(image.upc_ean(), None);
    assert!(image.cd_text.is_none());
    assert!(image.tracks.iter().all(|t| t.isrc.is_none()));
    assert!(image.checksums_ok());
}
