//! Settings travel in the editor: Export writes the current settings as the ChainSettings TOML
//! that `cargo xtask render --settings` reads; Import reads one, validates it and moves every
//! parameter through the host (one gesture each). Errors are shown, never panicked on.

use std::path::{Path, PathBuf};

use egui::{Color32, Ui};
use nice_plug::prelude::*;

use super::LatheEditor;
use crate::params::travel::{apply_settings, export_toml, parse_toml};

pub struct TravelState {
    pub path: String,
    /// The last outcome: whether it worked, and what to say.
    pub message: Option<(bool, String)>,
}

impl Default for TravelState {
    fn default() -> Self {
        Self {
            path: default_path().display().to_string(),
            message: None,
        }
    }
}

/// `$HOME/lathe-settings.toml`, or the working directory's when there is no home.
pub fn default_path() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join("lathe-settings.toml")
}

/// Writes `text` to `path` through a temporary file and a rename, so a failed write never
/// leaves half a settings file.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

pub fn travel_row(editor: &mut LatheEditor, ui: &mut Ui, setter: &ParamSetter) {
    ui.horizontal(|ui| {
        ui.label("Settings file");
        ui.add(egui::TextEdit::singleline(&mut editor.travel.path).desired_width(300.0));
        if ui
            .button("Export")
            .on_hover_text("Write these settings for `cargo xtask render --settings … --as-set`")
            .clicked()
        {
            let path = PathBuf::from(&editor.travel.path);
            editor.travel.message = Some(
                match write_atomically(&path, &export_toml(&editor.params)) {
                    Ok(()) => (true, format!("Exported to {}", path.display())),
                    Err(e) => (false, format!("Cannot write {}: {e}", path.display())),
                },
            );
        }
        if ui
            .button("Import")
            .on_hover_text("Read a settings file and set every control from it")
            .clicked()
        {
            let path = PathBuf::from(&editor.travel.path);
            editor.travel.message = Some(import(editor, &path, setter));
        }
        if let Some((ok, text)) = &editor.travel.message {
            let color = if *ok {
                Color32::from_rgb(70, 190, 110)
            } else {
                Color32::from_rgb(230, 90, 70)
            };
            ui.colored_label(color, text);
        }
    });
}

fn import(editor: &LatheEditor, path: &Path, setter: &ParamSetter) -> (bool, String) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) => return (false, format!("Cannot read {}: {e}", path.display())),
    };
    let settings = match parse_toml(&text) {
        Ok(s) => s,
        Err(e) => return (false, format!("{}: {e}", path.display())),
    };
    match apply_settings(&editor.params, &settings, setter) {
        Ok(()) => (true, format!("Imported {}", path.display())),
        Err(e) => (false, format!("{}: {e}", path.display())),
    }
}
