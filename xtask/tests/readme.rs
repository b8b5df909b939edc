//! The front door (issue 18, item 8): README's quick start works for a user with sudo and for
//! root on a machine without it, the front page stays a one-minute read with a picture of the
//! editor and of the report, and every link in README and docs/ leads to a file that exists.
//! (`.ci/run` runs the quick start block itself, verbatim, on a fresh machine.)

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The first ```sh block after `heading`.
fn block_after(text: &str, heading: &str) -> String {
    let from = text.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let start = from + text[from..].find("```sh\n").expect("a sh block") + 6;
    let end = start + text[start..].find("```").unwrap();
    text[start..end].to_string()
}

#[test]
fn the_quick_start_runs_as_root_without_sudo_and_as_a_user_with_it() {
    let readme = read(&root().join("README.md"));
    let quick = block_after(&readme, "## Quick start");
    // Every privileged command goes through `$(command -v sudo)`: `sudo` for a user who has
    // it, nothing for root in a container that has none (where `sudo apt-get` fails with
    // "sudo: command not found").
    let apt_calls = quick.matches("apt-get").count();
    assert!(apt_calls >= 2, "{quick}");
    assert_eq!(
        quick.matches("$(command -v sudo) apt-get").count(),
        apt_calls,
        "{quick}"
    );
    let bare_sudo = quick.split_whitespace().filter(|w| *w == "sudo").count();
    assert_eq!(bare_sudo, 0, "{quick}");
    // The two commands the project promises.
    assert!(quick.contains("cargo xtask bundle lathe --release"));
    assert!(quick.contains("cargo xtask render "));
    // The same idiom in the developer page's test set-up.
    let dev = read(&root().join("docs/development.md"));
    let tests = block_after(&dev, "## Tests");
    assert!(
        tests.contains("$(command -v sudo) apt-get install"),
        "{tests}"
    );
}

/// Every `](target)` link target of a Markdown text that is a relative path.
fn relative_links(text: &str) -> Vec<String> {
    text.match_indices("](")
        .filter_map(|(i, _)| {
            let rest = &text[i + 2..];
            let target = &rest[..rest.find(')')?];
            let path = target.split('#').next().unwrap_or_default();
            (!path.is_empty() && !target.contains("://")).then(|| path.to_string())
        })
        .collect()
}

#[test]
fn the_front_page_is_short_and_every_link_leads_somewhere() {
    let readme = read(&root().join("README.md"));
    // A newcomer's minute: what it is, set-up and a render, the command, the plugin, two
    // pictures; the reference material lives in docs/. 130 lines is about 900 words.
    let lines = readme.lines().count();
    assert!(lines <= 130, "README has {lines} lines");
    for heading in [
        "## Quick start",
        "## Master your own mix",
        "## Install the plugin",
    ] {
        assert!(readme.contains(heading), "{heading}");
    }
    let links = relative_links(&readme);
    for picture in ["docs/screenshot.png", "docs/report.png"] {
        assert!(links.iter().any(|l| l == picture), "no {picture}");
    }
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            pages.push(path);
        }
    }
    assert!(pages.len() >= 5, "{pages:?}");
    for page in &pages {
        let dir = page.parent().unwrap();
        for link in relative_links(&read(page)) {
            assert!(
                dir.join(&link).exists(),
                "{}: the link {link} leads nowhere",
                page.display()
            );
        }
    }
}
