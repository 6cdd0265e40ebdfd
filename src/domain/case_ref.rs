//! Case references: what a volunteer types back to log a visit, so a
//! check digit catches every single typo and every swap of neighbours.

use std::fmt;

use serde::{Serialize, Serializer};

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

#[cfg(test)]
mod tests {
    use super::*;

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
}
