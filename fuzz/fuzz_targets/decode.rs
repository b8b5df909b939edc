//! The input decoders as the renderer uses them: the bytes become a file (the first byte picks
//! its extension, since the extension is the probe's hint), `decode_file` reads it, and what it
//! decodes is measured as `render` measures a mix. A file is either refused with an error that
//! names it, or decoded into what the rest of the renderer relies on.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use lathe::render::decode::decode_file;
use lathe::render::measure::measure;
use libfuzzer_sys::fuzz_target;

const EXTENSIONS: [&str; 8] = ["wav", "flac", "aiff", "aif", "aifc", "mp3", "txt", ""];

/// One scratch folder per process, in memory where the system has one.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("lathe-fuzz-decode-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("scratch folder");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let ext = EXTENSIONS[pick as usize % EXTENSIONS.len()];
    let path = dir().join(if ext.is_empty() {
        "mix".to_string()
    } else {
        format!("mix.{ext}")
    });
    std::fs::write(&path, bytes).expect("write the input");
    match decode_file(&path) {
        Err(e) => {
            let msg = e.to_string();
            assert!(
                msg.starts_with(&path.display().to_string()),
                "the error does not name the file: {msg}"
            );
            // A panic inside the decoder is caught and reported as this; the fuzzer should
            // still hear about it (the panic hook aborts before the catch), so this line is
            // only reached with panic=unwind builds.
            assert!(!msg.contains("decoder failed"), "{msg}");
        }
        Ok(audio) => {
            assert!((1..=2).contains(&audio.channels.len()));
            let frames = audio.frames();
            assert!(frames > 0);
            assert!(audio.channels.iter().all(|c| c.len() == frames));
            assert!((44_100..=192_000).contains(&audio.sample_rate));
            assert!(audio.channels.iter().flatten().all(|s| s.is_finite()));
            let m = measure(&audio.channels, audio.sample_rate);
            assert!(!m.true_peak_dbtp.is_nan() && !m.integrated_lufs.is_nan());
        }
    }
    let _ = std::fs::remove_file(&path);
});
