//! Flow and locale files, from a folder or from the copies embedded in the
//! binary, and the `file:line: problem` reports made about them.

use std::{fmt, fs, path::Path};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// One text file: the path shown in problems (relative to the repo, e.g.
/// `locales/en/ussd.ftl`) and its contents.
#[derive(Clone, Debug)]
pub struct SourceFile {
    pub path: String,
    pub text: String,
}

impl SourceFile {
    pub fn line_of(&self, byte_offset: usize) -> usize {
        let end = byte_offset.min(self.text.len());
        self.text.as_bytes()[..end]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1
    }

    /// Line of the first occurrence of `needle` (for problems found after parsing).
    pub fn line_containing(&self, needle: &str) -> usize {
        self.text.find(needle).map_or(1, |o| self.line_of(o))
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub message: String,
    /// A warning is reported but does not fail `kanda check`.
    pub warning: bool,
}

impl Problem {
    pub fn error(file: &SourceFile, line: usize, message: impl Into<String>) -> Self {
        Problem {
            file: file.path.clone(),
            line,
            message: one_line(message.into()),
            warning: false,
        }
    }

    pub fn warning(file: &SourceFile, line: usize, message: impl Into<String>) -> Self {
        Problem {
            file: file.path.clone(),
            line,
            message: one_line(message.into()),
            warning: true,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = if self.warning { "warning: " } else { "" };
        write!(f, "{}:{}: {level}{}", self.file, self.line, self.message)
    }
}

/// One problem, one line: parsers' multi-line messages are folded.
fn one_line(m: String) -> String {
    m.trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Problems that stop the flows or texts from loading.
#[derive(Debug)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for p in &self.0 {
            writeln!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problems {}

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
pub fn load(kind: &str, dir: &Path, extension: &str) -> std::io::Result<(Origin, Vec<SourceFile>)> {
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
