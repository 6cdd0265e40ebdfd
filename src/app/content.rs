//! The flows and texts `serve` (and `kanda check`) load: read from their
//! folders, or from the copies built into the binary when a folder is
//! absent, then parsed and checked together. The one place content is read
//! from disk; everything it hands on is text.

use std::{fmt, fs, path::Path};

use super::config::Config;
use crate::{
    engine::{check, flows::FlowSet},
    text::{
        source::{Problem, SourceFile},
        Texts,
    },
};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The flows and texts `serve` would use, with every problem found in them.
pub struct Content {
    pub flows: Option<FlowSet>,
    pub texts: Option<Texts>,
    pub problems: Vec<Problem>,
    pub origins: (Origin, Origin),
}

/// Reads, parses and checks the flows and texts `config` names.
pub fn load_content(config: &Config) -> std::io::Result<Content> {
    let (flow_origin, flow_files) = load("flows", &config.flows_dir, "toml")?;
    let (locale_origin, locale_files) = load("locales", &config.locales_dir, "ftl")?;
    let (flows, mut problems) = FlowSet::load(&flow_files);
    let (texts, text_problems) = Texts::load(&locale_files);
    problems.extend(text_problems);
    if let (Some(f), Some(t)) = (&flows, &texts) {
        problems.extend(check::check(
            f,
            t,
            &locale_files,
            &flow_files,
            &config.default_locale,
        ));
        problems.extend(check::check_sms(f, t, &locale_files, config.sms_segments));
    }
    Ok(Content {
        flows,
        texts,
        problems,
        origins: (flow_origin, locale_origin),
    })
}

/// Where a set of files comes from, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    Folder(String),
    Embedded,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Folder(p) => write!(f, "{p}"),
            Origin::Embedded => f.write_str("the copies built into this binary"),
        }
    }
}

/// Reads every file with `extension` below `dir` (kind is `flows` or `locales`),
/// or the embedded copies when `dir` does not exist.
fn load(kind: &str, dir: &Path, extension: &str) -> std::io::Result<(Origin, Vec<SourceFile>)> {
    if !dir.exists() {
        let files = embedded::FILES
            .iter()
            .filter(|(k, rel, _)| *k == kind && rel.ends_with(&format!(".{extension}")))
            .map(|(_, rel, text)| SourceFile {
                path: format!("{kind}/{rel}"),
                text: text.to_string(),
            })
            .collect();
        return Ok((Origin::Embedded, files));
    }
    let mut out = Vec::new();
    walk(dir, dir, extension, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    let shown = dir.display().to_string();
    for f in &mut out {
        f.path = format!("{}/{}", shown.trim_end_matches('/'), f.path);
    }
    Ok((Origin::Folder(shown), out))
}

fn walk(
    root: &Path,
    dir: &Path,
    extension: &str,
    out: &mut Vec<SourceFile>,
) -> std::io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(root, &path, extension, out)?;
        } else if path.extension().and_then(|e| e.to_str()) == Some(extension) {
            let rel = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            out.push(SourceFile {
                path: rel,
                text: fs::read_to_string(&path)?,
            });
        }
    }
    Ok(())
}
