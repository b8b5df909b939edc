//! What a render's files are called. One scheme for a single, a track of an album and a
//! master that shares its folder with another: every file of a master starts with the
//! master's name, which is its title when the job gives one (`--title "Night Drive"` →
//! `Night Drive_44k1_16bit.wav`, `Night Drive.report.html`) and the mix's file stem
//! otherwise (`song.wav` → `song_44k1_16bit.wav`, `song.report.html`).

use std::path::Path;

/// The most bytes of a title that go into a file or folder name: with a number in front or
/// a format suffix behind, well inside the 255-byte name limit of ext4, APFS and NTFS (the
/// whole title still goes into the tags).
pub const MAX_TITLE_BYTES: usize = 200;

/// `title` as one plain, portable name component, or `None` when it has no letter or digit
/// to name anything by.
/// Only letters, digits, spaces and hyphens are kept; anything else (`/`, `\`, `.`, `:`,
/// NUL, quotes) becomes `_`, so the name cannot leave its folder and is legal on Windows,
/// macOS and Linux alike, whatever the title says.
pub fn safe_title(title: &str) -> Option<String> {
    let mut safe = String::new();
    for c in title.trim().chars() {
        let c = if c.is_alphanumeric() || c == ' ' || c == '-' {
            c
        } else {
            '_'
        };
        if safe.len() + c.len_utf8() > MAX_TITLE_BYTES {
            break;
        }
        safe.push(c);
    }
    let safe = safe.trim();
    safe.chars()
        .any(char::is_alphanumeric)
        .then(|| safe.to_string())
}

/// The name every file of one master starts with: the title made safe, else the mix's stem
/// (already a name the file system accepted).
pub fn master_name(mix: &Path, title: Option<&str>) -> String {
    title.and_then(safe_title).unwrap_or_else(|| {
        mix.file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned()
    })
}

/// The folder of an album's track: its number and its title, as [`safe_title`] makes it.
pub fn track_folder(number: usize, title: &str) -> String {
    match safe_title(title) {
        Some(safe) => format!("{number:02} {safe}"),
        None => format!("{number:02}"),
    }
}

/// `report.json` of the master called `name`.
pub fn report_json(name: &str) -> String {
    format!("{name}.report.json")
}

/// `report.html` of the master called `name`.
pub fn report_html(name: &str) -> String {
    format!("{name}.report.html")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_title_names_the_master_and_the_mix_stem_stands_in_without_one() {
        let mix = Path::new("/mixes/nd_v7_final.wav");
        assert_eq!(master_name(mix, Some("Night Drive")), "Night Drive");
        assert_eq!(master_name(mix, None), "nd_v7_final");
        // A title with nothing to name by falls back to the stem.
        assert_eq!(master_name(mix, Some(" ./ ")), "nd_v7_final");
        assert_eq!(master_name(mix, Some("   ")), "nd_v7_final");
        assert_eq!(report_html("Night Drive"), "Night Drive.report.html");
        assert_eq!(report_json("Night Drive"), "Night Drive.report.json");
    }

    #[test]
    fn titles_cannot_leave_the_folder_or_break_a_file_system() {
        assert_eq!(safe_title("../../etc/passwd").unwrap(), "______etc_passwd");
        assert_eq!(safe_title("A: B? \"C\"").unwrap(), "A_ B_ _C_");
        assert_eq!(safe_title("Ça va – déjà").unwrap(), "Ça va _ déjà");
        let long = "é".repeat(300);
        assert!(safe_title(&long).unwrap().len() <= MAX_TITLE_BYTES);
        assert_eq!(track_folder(3, "Night Drive"), "03 Night Drive");
        assert_eq!(track_folder(12, "\t"), "12");
    }
}
