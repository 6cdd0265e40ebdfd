//! Phone numbers: read in any spelling at the edge, kept in E.164.

use std::fmt;

use serde::{Serialize, Serializer};

/// A phone number in E.164 form (`+250788000001`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Phone(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PhoneError {
    #[error("`{0}` is not a phone number")]
    Invalid(String),
    #[error("unknown country code `{0}`")]
    UnknownCountry(String),
}

/// The deployment's country, used to read numbers written without `+`.
#[derive(Clone, Copy, Debug)]
pub struct Country(phonenumber::country::Id);

impl Country {
    pub fn parse(code: &str) -> Result<Self, PhoneError> {
        code.trim()
            .to_ascii_uppercase()
            .parse::<phonenumber::country::Id>()
            .map(Country)
            .map_err(|_| PhoneError::UnknownCountry(code.to_string()))
    }
}

impl Phone {
    /// Reads `0788000001`, `250788000001`, `+250788000001` (spaces and dashes allowed)
    /// as the same person, using the deployment's country for national numbers.
    pub fn parse(raw: &str, country: Country) -> Result<Self, PhoneError> {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .collect();
        if cleaned.is_empty() || cleaned.len() > 20 {
            return Err(PhoneError::Invalid(raw.chars().take(24).collect()));
        }
        let try_parse = |s: &str| {
            phonenumber::parse(Some(country.0), s)
                .ok()
                .filter(phonenumber::is_valid)
        };
        let number = try_parse(&cleaned)
            .or_else(|| {
                // International number written without its `+` (gateways do this).
                (!cleaned.starts_with('+') && !cleaned.starts_with('0'))
                    .then(|| try_parse(&format!("+{cleaned}")))
                    .flatten()
            })
            .ok_or_else(|| PhoneError::Invalid(raw.chars().take(24).collect()))?;
        Ok(Phone(
            number.format().mode(phonenumber::Mode::E164).to_string(),
        ))
    }

    /// For values already stored in E.164 by this program.
    pub fn from_trusted(e164: String) -> Self {
        Phone(e164)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number with all but its last three digits hidden, for logs.
    pub fn redacted(&self) -> String {
        let keep = self.0.len().saturating_sub(3);
        format!("{}{}", "*".repeat(keep), &self.0[keep..])
    }
}

/// `text` with every run of seven digits or more (a phone number, with
/// its `+`) hidden but its last three digits, as [`Phone::redacted`] shows
/// one: for logs that quote what a provider answered, which may name the
/// recipient.
pub fn redact_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        let digits = run.trim_start_matches('+').len();
        if digits >= 7 {
            let keep = run.len() - 3;
            out.extend(std::iter::repeat_n('*', keep));
            out.push_str(&run[keep..]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_digit() || (c == '+' && run.is_empty()) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Phone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Reads phone numbers for one country, remembering what it has read: the
/// full parse costs tens of microseconds and gateways send the same few
/// numbers on every hop. Bounded: it forgets everything when full.
#[derive(Debug)]
pub struct PhoneReader {
    country: Country,
    seen: std::sync::Mutex<std::collections::HashMap<String, Phone>>,
}

const PHONE_MEMO_CAP: usize = 100_000;

impl PhoneReader {
    pub fn new(country: Country) -> Self {
        PhoneReader {
            country,
            seen: Default::default(),
        }
    }

    pub fn country(&self) -> Country {
        self.country
    }

    pub fn read(&self, raw: &str) -> Result<Phone, PhoneError> {
        if let Some(p) = self.seen.lock().ok().and_then(|m| m.get(raw).cloned()) {
            return Ok(p);
        }
        let phone = Phone::parse(raw, self.country)?;
        if raw.len() <= 24 {
            if let Ok(mut m) = self.seen.lock() {
                if m.len() >= PHONE_MEMO_CAP {
                    m.clear();
                }
                m.insert(raw.to_string(), phone.clone());
            }
        }
        Ok(phone)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_in_a_text_are_hidden_but_their_last_digits() {
        use super::redact_numbers;
        assert_eq!(
            redact_numbers("The 'To' number +250788000001 is not valid (21211)"),
            "The 'To' number **********001 is not valid (21211)"
        );
        assert_eq!(redact_numbers("250788000001,x"), "*********001,x");
        assert_eq!(redact_numbers("a + b 123456"), "a + b 123456");
        assert_eq!(redact_numbers("+"), "+");
        assert_eq!(redact_numbers("é+2507880000011é"), "é***********011é");
    }

    use super::*;

    fn rw() -> Country {
        Country::parse("RW").unwrap()
    }

    #[test]
    fn three_spellings_are_one_person() {
        let want = "+250788000001";
        for raw in [
            "0788000001",
            "250788000001",
            "+250788000001",
            "0788 000 001",
        ] {
            assert_eq!(Phone::parse(raw, rw()).unwrap().as_str(), want, "{raw}");
        }
    }

    #[test]
    fn garbage_is_not_a_phone() {
        for raw in ["", "abc", "123", "+2507880000019999999999"] {
            assert!(Phone::parse(raw, rw()).is_err(), "{raw}");
        }
    }

    #[test]
    fn redaction_keeps_last_three_digits() {
        let p = Phone::parse("+250788000001", rw()).unwrap();
        assert_eq!(p.redacted(), "**********001");
    }
}
