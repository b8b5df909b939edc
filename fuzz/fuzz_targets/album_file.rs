//! The album file (`--album album.toml`): parsed as `cargo xtask render --album` parses it.
//! Whatever the text, the parser answers with an album or an error naming the file; an
//! accepted album's track folders (named from the titles) are single, ordinary path
//! components that stay inside the output folder.
#![no_main]

use std::path::{Component, Path};

use lathe::render::album::{spec, track_folder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new("/albums/elements/album.toml");
    let _ = spec::settings_path(path, text);
    match spec::parse(path, text, None) {
        Err(e) => assert!(
            e.to_string().starts_with("/albums/elements/album.toml"),
            "{e}"
        ),
        Ok(album) => {
            assert!(!album.tracks.is_empty());
            for (i, t) in album.tracks.iter().enumerate() {
                let folder = track_folder(i + 1, &t.title);
                let mut parts = Path::new(&folder).components();
                assert!(
                    matches!(parts.next(), Some(Component::Normal(_))) && parts.next().is_none(),
                    "track folder {folder:?} is not one plain name"
                );
                assert!(!folder.contains('\0') && folder.len() <= 255, "{folder:?}");
                assert!(t.settings.validate().is_ok());
                assert!(t.gain_db.is_finite() && t.fade_out_s.is_finite());
            }
        }
    }
});
