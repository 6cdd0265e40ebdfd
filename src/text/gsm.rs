//! Screen and SMS length accounting in GSM 03.38 (GSM-7) or UCS-2.
//!
//! A USSD screen holds 182 GSM-7 characters, but a single character outside
//! that alphabet switches the whole screen to UCS-2 and only 80 fit.

/// The tables of GSM 03.38; `class` must agree with them (tested).
#[cfg(test)]
const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Characters of the extension table: each takes two septets.
#[cfg(test)]
const EXTENSION: &str = "^{}\\[~]|€\u{c}";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Gsm7,
    Ucs2,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Basic,
    Extension,
    Other,
}

const fn class_ascii(b: u8) -> Class {
    match b {
        b'\n' | b'\r' => Class::Basic,
        0x0c => Class::Extension,
        // In neither table.
        b'`' => Class::Other,
        b'^' | b'{' | b'}' | b'\\' | b'[' | b'~' | b']' | b'|' => Class::Extension,
        b' '..=b'~' => Class::Basic,
        _ => Class::Other,
    }
}

/// Which table a character is in; screens are mostly ASCII, decided without
/// searching a table.
fn class(c: char) -> Class {
    if c.is_ascii() {
        return class_ascii(c as u8);
    }
    match c {
        '€' => Class::Extension,
        '£' | '¥' | 'è' | 'é' | 'ù' | 'ì' | 'ò' | 'Ç' | 'Ø' | 'ø' | 'Å' | 'å' | 'Δ' | 'Φ' | 'Γ'
        | 'Λ' | 'Ω' | 'Π' | 'Ψ' | 'Σ' | 'Θ' | 'Ξ' | 'Æ' | 'æ' | 'ß' | 'É' | '¤' | '¡' | 'Ä'
        | 'Ö' | 'Ñ' | 'Ü' | '§' | '¿' | 'ä' | 'ö' | 'ñ' | 'ü' | 'à' => Class::Basic,
        _ => Class::Other,
    }
}

#[cfg(test)]
fn is_basic(c: char) -> bool {
    class(c) == Class::Basic
}

pub fn encoding(text: &str) -> Encoding {
    units(text).0
}

/// Length in the units the network counts: septets for GSM-7 (extension
/// characters count twice), UTF-16 code units for UCS-2.
pub fn units(text: &str) -> (Encoding, usize) {
    match measure(text) {
        (Some(septets), _) => (Encoding::Gsm7, septets),
        (None, utf16) => (Encoding::Ucs2, utf16),
    }
}

/// Septets per ASCII byte: 1 basic, 2 extension, 0 outside GSM-7.
const ASCII_SEPTETS: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut i = 0;
    while i < 128 {
        t[i] = match class_ascii(i as u8) {
            Class::Basic => 1,
            Class::Extension => 2,
            Class::Other => 0,
        };
        i += 1;
    }
    t
};

/// Septets (`None` outside GSM-7) and UTF-16 code units, in one pass.
/// Screens are mostly ASCII: those are counted bytewise from a table.
fn measure(text: &str) -> (Option<usize>, usize) {
    if text.is_ascii() {
        let mut septets = 0;
        for &b in text.as_bytes() {
            match ASCII_SEPTETS[b as usize] {
                0 => return (None, text.len()),
                n => septets += n as usize,
            }
        }
        return (Some(septets), text.len());
    }
    let mut septets = Some(0);
    let mut utf16 = 0;
    for c in text.chars() {
        utf16 += c.len_utf16();
        if let Some(n) = septets.as_mut() {
            match class(c) {
                Class::Basic => *n += 1,
                Class::Extension => *n += 2,
                Class::Other => septets = None,
            }
        }
    }
    (septets, utf16)
}

/// A text's length counted both ways, so that the length of lines joined
/// by newlines is a sum: screens are measured line by line, once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Units {
    /// `None` when some character is outside GSM-7.
    septets: Option<usize>,
    utf16: usize,
    lines: usize,
}

impl Units {
    pub fn of(text: &str) -> Self {
        let (septets, utf16) = measure(text);
        Units {
            septets,
            utf16,
            lines: 1,
        }
    }

    /// `self`'s lines followed by `other`'s, one newline between.
    pub fn then(self, other: Units) -> Units {
        Units {
            septets: self.septets.zip(other.septets).map(|(a, b)| a + b),
            utf16: self.utf16 + other.utf16,
            lines: self.lines + other.lines,
        }
    }

    fn newlines(self) -> usize {
        self.lines.saturating_sub(1)
    }
}

/// The USSD screen budget: 182 GSM-7 septets, or 80 UCS-2 characters.
#[derive(Clone, Copy, Debug)]
pub struct UssdBudget {
    pub gsm7: usize,
    pub ucs2: usize,
}

impl Default for UssdBudget {
    fn default() -> Self {
        UssdBudget {
            gsm7: 182,
            ucs2: 80,
        }
    }
}

impl UssdBudget {
    pub fn limit_for(&self, text: &str) -> usize {
        self.limit(encoding(text))
    }

    fn limit(&self, e: Encoding) -> usize {
        match e {
            Encoding::Gsm7 => self.gsm7,
            Encoding::Ucs2 => self.ucs2,
        }
    }

    pub fn fits(&self, text: &str) -> bool {
        let (e, n) = units(text);
        n <= self.limit(e)
    }

    /// Whether lines measuring `u` in all, joined by newlines, fit.
    pub fn fits_units(&self, u: Units) -> bool {
        match u.septets {
            Some(septets) => septets + u.newlines() <= self.gsm7,
            None => u.utf16 + u.newlines() <= self.ucs2,
        }
    }

    /// Cuts a text to the budget (a last resort: `kanda check` keeps shipped
    /// texts within it, and lists are paged before this is needed).
    pub fn truncate(&self, text: &str) -> String {
        if self.fits(text) {
            return text.to_string();
        }
        let mut out = String::new();
        for c in text.chars() {
            out.push(c);
            let candidate = format!("{out}..");
            if !self.fits(&candidate) {
                out.pop();
                break;
            }
        }
        out.push_str("..");
        out
    }
}

/// SMS segments: 160/153 septets in GSM-7, 70/67 characters in UCS-2.
pub fn sms_segments(text: &str) -> usize {
    let (enc, n) = units(text);
    let (single, multi) = match enc {
        Encoding::Gsm7 => (160, 153),
        Encoding::Ucs2 => (70, 67),
    };
    if n <= single {
        1
    } else {
        n.div_ceil(multi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_measured_apart_fit_as_their_joined_text_does() {
        let budget = UssdBudget::default();
        let lines = [
            "Report a child",
            "Signaler un enfant: é, ù",
            "Ab{c}",
            "Emoji 🙂",
            "",
        ];
        for n in 1..=lines.len() {
            for set in [&lines[..n], &lines[lines.len() - n..]] {
                let u = set
                    .iter()
                    .map(|l| Units::of(l))
                    .reduce(Units::then)
                    .unwrap();
                let joined = set.join("\n");
                assert_eq!(budget.fits_units(u), budget.fits(&joined), "{joined:?}");
                let (e, len) = units(&joined);
                let counted = match e {
                    Encoding::Gsm7 => u.septets.unwrap() + u.newlines(),
                    Encoding::Ucs2 => u.utf16 + u.newlines(),
                };
                assert_eq!(counted, len, "{joined:?}");
            }
        }
        let long = "x".repeat(180);
        assert!(budget.fits_units(Units::of(&long)));
        assert!(!budget.fits_units(Units::of(&long).then(Units::of("ab"))));
    }

    /// `measure` without its ASCII table, character by character.
    fn measure_by_chars(text: &str) -> (Option<usize>, usize) {
        let septets = text.chars().try_fold(0, |n, c| match class(c) {
            Class::Basic => Some(n + 1),
            Class::Extension => Some(n + 2),
            Class::Other => None,
        });
        (septets, text.encode_utf16().count())
    }

    #[test]
    fn the_ascii_table_counts_as_the_character_classes_do() {
        for b in 0u8..128 {
            let one = (b as char).to_string();
            assert_eq!(measure(&one), measure_by_chars(&one), "byte {b}");
            let mixed = format!("1. Report{one}[x]\n");
            assert_eq!(measure(&mixed), measure_by_chars(&mixed), "byte {b}");
        }
        for text in ["Signaler un enfant", "Ici: é", "`tick`", "a€b", "\u{1F642}"] {
            assert_eq!(measure(text), measure_by_chars(text), "{text:?}");
        }
    }

    #[test]
    fn gsm_and_ucs2() {
        assert_eq!(units("Hello"), (Encoding::Gsm7, 5));
        assert_eq!(units("é à"), (Encoding::Gsm7, 3));
        assert_eq!(units("{x}"), (Encoding::Gsm7, 5));
        assert_eq!(units("garçon"), (Encoding::Ucs2, 6));
        assert_eq!(units("🙂"), (Encoding::Ucs2, 2));
    }

    #[test]
    fn classes_agree_with_the_tables() {
        for c in (0u32..0x2100).filter_map(char::from_u32) {
            assert_eq!(is_basic(c), BASIC.contains(c), "{c:?}");
            assert_eq!(class(c) == Class::Extension, EXTENSION.contains(c), "{c:?}");
        }
    }

    #[test]
    fn budget() {
        let b = UssdBudget::default();
        assert!(b.fits(&"a".repeat(182)));
        assert!(!b.fits(&"a".repeat(183)));
        assert!(!b.fits(&format!("ç{}", "a".repeat(80))));
        let cut = b.truncate(&"a".repeat(300));
        assert!(b.fits(&cut) && cut.ends_with(".."));
    }

    #[test]
    fn segments() {
        assert_eq!(sms_segments(&"a".repeat(160)), 1);
        assert_eq!(sms_segments(&"a".repeat(161)), 2);
        assert_eq!(sms_segments(&"ç".repeat(70)), 1);
        assert_eq!(sms_segments(&"ç".repeat(71)), 2);
    }
}
