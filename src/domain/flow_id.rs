//! Flow ids, as in `flows/<id>.toml`.

use std::fmt;

/// A flow's id: lower-case letters, digits and `_`, as in `flows/<id>.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowId(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a flow id (lower-case letters, digits and _)")]
pub struct FlowIdError(pub String);

impl FlowId {
    pub fn parse(raw: &str) -> Result<Self, FlowIdError> {
        let ok = !raw.is_empty()
            && raw.len() <= 40
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if ok {
            Ok(FlowId(raw.to_string()))
        } else {
            Err(FlowIdError(raw.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FlowId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_ids_are_file_stems() {
        assert!(FlowId::parse("report").is_ok());
        assert!(FlowId::parse("Report").is_err());
        assert!(FlowId::parse("../x").is_err());
    }
}
