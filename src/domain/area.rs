//! Where indicators are counted: one centre's cases, one province's, or
//! the nation's; written `centre:CODE`, `province:CODE` or `national` in
//! pages' and the API's `scope` parameter.

use std::fmt;

/// An area indicators are counted over.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    /// The cases a centre holds (by its code).
    Centre(String),
    /// The cases of children living in a province (by its location code).
    Province(String),
    National,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("scope `{0}`: use centre:CODE, province:CODE or national")]
pub struct AreaError(pub String);

/// The longest code a scope may name.
const MAX_CODE: usize = 64;

impl Area {
    pub fn parse(s: &str) -> Result<Area, AreaError> {
        let bad = || AreaError(s.chars().take(80).collect());
        let s = s.trim();
        if s.eq_ignore_ascii_case("national") {
            return Ok(Area::National);
        }
        let (kind, code) = s.split_once(':').ok_or_else(bad)?;
        let code = code.trim();
        let code_ok = !code.is_empty()
            && code.len() <= MAX_CODE
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !code_ok {
            return Err(bad());
        }
        match kind.trim().to_ascii_lowercase().as_str() {
            "centre" | "center" => Ok(Area::Centre(code.to_string())),
            "province" => Ok(Area::Province(code.to_string())),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Area::Centre(c) => write!(f, "centre:{c}"),
            Area::Province(p) => write!(f, "province:{p}"),
            Area::National => f.write_str("national"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_read_back() {
        for s in ["centre:CAPE-S", "province:RW-S", "national"] {
            assert_eq!(Area::parse(s).unwrap().to_string(), s);
        }
        assert_eq!(Area::parse(" National "), Ok(Area::National));
        assert_eq!(
            Area::parse("Centre:CAPE-E"),
            Ok(Area::Centre("CAPE-E".into()))
        );
        for bad in [
            "",
            "centre:",
            "centre",
            "district:X",
            "centre:A B",
            "centre:a'b",
            "nation",
        ] {
            assert!(Area::parse(bad).is_err(), "{bad}");
        }
    }
}
