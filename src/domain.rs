//! Domain newtypes: parse once at the edge, then trust the type.

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

/// A case reference: 7 digits and a Damm check digit, keypad friendly.
/// A single mistyped digit or an adjacent swap is always refused.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CaseRef(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CaseRefError {
    #[error("a case reference has {expected} digits")]
    Length { expected: usize },
    #[error("a case reference has only digits")]
    NotDigits,
    #[error("the check digit does not match: a digit is mistyped")]
    CheckDigit,
}

const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: impl Iterator<Item = u8>) -> u8 {
    digits.fold(0, |interim, d| DAMM[interim as usize][d as usize])
}

/// 128 random bits as 32 hex digits: an identifier no one can guess.
pub fn random_token() -> String {
    use rand::Rng;
    format!("{:032x}", rand::thread_rng().gen::<u128>())
}

impl CaseRef {
    pub const BODY_DIGITS: usize = 7;
    pub const LEN: usize = Self::BODY_DIGITS + 1;

    /// A reference from a 7-digit body (0..10_000_000), with its check digit appended.
    pub fn from_body(body: u32) -> Self {
        let body = format!("{:07}", body % 10_000_000);
        let check = damm(body.bytes().map(|b| b - b'0'));
        CaseRef(format!("{body}{check}"))
    }

    pub fn random() -> Self {
        use rand::Rng;
        // Never starts with 0, so a reference is never read as "back".
        Self::from_body(rand::thread_rng().gen_range(1_000_000..10_000_000))
    }

    /// Reads what a person typed: spaces and dashes are ignored.
    pub fn parse(raw: &str) -> Result<Self, CaseRefError> {
        let digits: String = raw
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.'))
            .collect();
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(CaseRefError::NotDigits);
        }
        if digits.len() != Self::LEN {
            return Err(CaseRefError::Length {
                expected: Self::LEN,
            });
        }
        if damm(digits.bytes().map(|b| b - b'0')) != 0 {
            return Err(CaseRefError::CheckDigit);
        }
        Ok(CaseRef(digits))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CaseRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for CaseRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

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

    #[test]
    fn reference_round_trips_and_catches_typos() {
        for body in [1_000_000, 1_234_567, 9_999_999, 4_821_093] {
            let r = CaseRef::from_body(body);
            assert_eq!(CaseRef::parse(r.as_str()).unwrap(), r);
            let digits: Vec<u8> = r.as_str().bytes().collect();
            // Every single-digit substitution is refused.
            for i in 0..digits.len() {
                for d in b'0'..=b'9' {
                    if d == digits[i] {
                        continue;
                    }
                    let mut typo = digits.clone();
                    typo[i] = d;
                    let typo = String::from_utf8(typo).unwrap();
                    assert_eq!(
                        CaseRef::parse(&typo),
                        Err(CaseRefError::CheckDigit),
                        "{typo}"
                    );
                }
            }
            // Every adjacent swap of two different digits is refused.
            for i in 0..digits.len() - 1 {
                if digits[i] == digits[i + 1] {
                    continue;
                }
                let mut swap = digits.clone();
                swap.swap(i, i + 1);
                let swap = String::from_utf8(swap).unwrap();
                assert!(CaseRef::parse(&swap).is_err(), "{swap}");
            }
        }
    }

    #[test]
    fn reference_forms() {
        assert_eq!(
            CaseRef::parse("12"),
            Err(CaseRefError::Length { expected: 8 })
        );
        assert_eq!(CaseRef::parse("1234abcd"), Err(CaseRefError::NotDigits));
        let r = CaseRef::from_body(1_234_567);
        let spaced = format!("{} {}", &r.as_str()[..4], &r.as_str()[4..]);
        assert_eq!(CaseRef::parse(&spaced).unwrap(), r);
        assert!(!CaseRef::random().as_str().starts_with('0'));
    }

    #[test]
    fn locales_and_flow_ids() {
        assert_eq!(Locale::parse("FR").unwrap().as_str(), "fr");
        assert!(Locale::parse("not a tag").is_err());
        assert!(FlowId::parse("report").is_ok());
        assert!(FlowId::parse("Report").is_err());
        assert!(FlowId::parse("../x").is_err());
    }
}
