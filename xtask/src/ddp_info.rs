//! `cargo xtask ddp-info <dir>`: reads a DDP image back and prints what a plant will press:
//! its level, UPC/EAN, tracks with their times, ISRCs and CD-TEXT, and whether every file
//! matches CHECKSUM.MD5. The reading is `lathe::render::ddp::read_ddp`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use lathe::render::ddp::{self, redbook, DdpImage, Msf};

const USAGE: &str = "\
Reads a DDP 2.00 audio CD image back and prints its tracks, times, ISRCs, CD-TEXT and
checksums. Exits with failure when a file does not match CHECKSUM.MD5.

Usage: {prog} ddp-info <dir>

Arguments:
  <dir>        The folder holding DDPID, DDPMS and the files they name, e.g. masters/album/DDP
";

/// `prog` is the command as the user typed it (`cargo xtask` or `lathe`), for the help.
pub fn run(prog: &str, args: Vec<String>) -> ExitCode {
    let result = match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            print!("{}", USAGE.replace("{prog}", prog));
            return ExitCode::SUCCESS;
        }
        [dir] if !dir.starts_with('-') => info(PathBuf::from(dir)),
        _ => crate::cli::usage(format!(
            "{prog} ddp-info takes one DDP folder, e.g. {prog} ddp-info masters/album/DDP"
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => crate::cli::fail(&e),
    }
}

fn info(dir: PathBuf) -> Result<()> {
    let image = ddp::read_ddp(&dir)?;
    print!("{}", describe(&image));
    match &image.checksums {
        None => bail!("no CHECKSUM.MD5: the files cannot be checked"),
        Some(_) if !image.checksums_ok() => bail!("files do not match CHECKSUM.MD5"),
        Some(_) => Ok(()),
    }
}

fn or_none(text: Option<&str>) -> &str {
    text.filter(|t| !t.is_empty()).unwrap_or("(none)")
}

fn describe(image: &DdpImage) -> String {
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&s);
        out.push('\n');
    };
    line(format!("DDP image   {}", image.dir.display()));
    line(format!("Level       {}", image.id.level));
    let upc = image.upc_ean();
    let agrees = match (&image.id.upc_ean, upc) {
        (Some(id), Some(pq)) if id != pq => format!(" (DDPID says {id})"),
        _ => String::new(),
    };
    line(format!("UPC/EAN     {}{agrees}", or_none(upc)));
    if let Some(text) = &image.cd_text {
        line(format!(
            "Album       {} / {}   (CD-TEXT, {} packs, CRCs good)",
            or_none(Some(&text.album_title)),
            or_none(Some(&text.album_performer)),
            text.packs
        ));
    } else {
        line("Album       (no CD-TEXT)".into());
    }
    let sectors = image.lead_out.sectors();
    line(format!(
        "Lead-out    {}   ({}: {sectors} sectors, {} bytes)",
        image.lead_out,
        image.image_file,
        u64::from(sectors) * redbook::BYTES_PER_SECTOR as u64
    ));
    line(String::new());
    line(format!(
        "{:>3}  {:<8}  {:<8}  {:<8}  {:<15}  title / performer",
        "#", "start", "length", "pre-gap", "ISRC"
    ));
    for t in &image.tracks {
        let isrc = t.isrc.as_deref().map(redbook::format_isrc);
        line(format!(
            "{:>3}  {}  {}  {}  {:<15}  {} / {}",
            t.number,
            t.index1,
            t.length(),
            Msf::from_sectors(t.pregap_sectors()),
            or_none(isrc.as_deref()),
            or_none(Some(&t.title)),
            or_none(Some(&t.performer)),
        ));
    }
    line(String::new());
    match &image.checksums {
        None => line("Checksums   no CHECKSUM.MD5".into()),
        Some(checks) => {
            line("Checksums   CHECKSUM.MD5".into());
            for c in checks {
                let status = match &c.actual {
                    _ if c.ok() => "ok      ".to_string(),
                    None => "MISSING ".to_string(),
                    Some(actual) => format!("CHANGED (now {actual}) "),
                };
                line(format!("  {status}{}  {}", c.expected, c.file));
            }
            let bad = checks.iter().filter(|c| !c.ok()).count();
            line(if bad == 0 {
                format!("  all {} files match", checks.len())
            } else {
                format!("  {bad} of {} files do not match", checks.len())
            });
        }
    }
    out
}
