//! Flow and locale files as text, and the `file:line: problem` reports
//! made about them. Reading them from a folder (or the copies built into
//! the binary) is the app's business (`app/content.rs`); everything here
//! works on text already read.

use std::fmt;

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
