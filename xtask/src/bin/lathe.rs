//! `lathe`: the renderer as a command on PATH (`cargo install --path xtask --bin lathe`), for
//! artists who master without the repository. The same code as `cargo xtask render`.

use std::process::ExitCode;

const USAGE: &str = "\
Lathe: masters a mix offline and writes every deliverable, each measured.

Usage: lathe render <mix> [options]     master a mix (lathe render --help lists the options)
       lathe batch <manifest.csv>       master every track of a manifest (docs/batch.md)
       lathe ddp-info <dir>             read a DDP image back
       lathe --version
";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let command = args.next();
    match command.as_deref() {
        None | Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("lathe {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        Some(c) => xtask::run_command("lathe", c, args.collect()).unwrap_or_else(|| {
            let hint = xtask::cli::nearest(c, &["render", "batch", "ddp-info"])
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            eprintln!("error: unknown command {c}{hint}; lathe --help lists the commands");
            ExitCode::from(xtask::cli::USAGE_ERROR)
        }),
    }
}
