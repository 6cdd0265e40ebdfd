//! Language tags.

use std::fmt;

/// A language tag this deployment knows (`en`, `fr`, `rw`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locale(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("`{0}` is not a language tag")]
pub struct LocaleError(pub String);

impl Locale {
    /// Syntax only (a BCP 47 language tag, lower-cased); whether the deployment
    /// has texts for it is the text catalogue's business.
    pub fn parse(raw: &str) -> Result<Self, LocaleError> {
        let id: unic_langid::LanguageIdentifier = raw
            .trim()
            .parse()
            .map_err(|_| LocaleError(raw.to_string()))?;
        if id.language.is_empty() {
            return Err(LocaleError(raw.to_string()));
        }
        Ok(Locale(id.to_string().to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_parse_their_syntax_only() {
        assert_eq!(Locale::parse("FR").unwrap().as_str(), "fr");
        assert!(Locale::parse("not a tag").is_err());
    }
}
