//! The SMS keyword grammar, channel- and gateway-neutral: how a message is
//! cut into words, how a word is folded for comparison, and which declared
//! keyword it names.
//!
//! - Words are separated by any run of spaces, commas, dots, `*`, `#` or
//!   `+` (what a feature phone's keypad makes easy).
//! - Matching ignores case and accents (`Sígnaler` is `SIGNALER`).
//! - A keyword of four letters or more forgives one typo: one letter
//!   wrong, missing, added, or two neighbours swapped.

use unicode_normalization::UnicodeNormalization;

/// Separates words: a run of these is one separator.
pub fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '.' | '*' | '#' | '+')
}

/// A word and where it stands in the message (byte offsets), so what
/// follows it can be read as typed (a note keeps its punctuation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Word<'a> {
    pub text: &'a str,
    pub start: usize,
    pub end: usize,
}

/// The words of a message, in order.
pub fn words(message: &str) -> Vec<Word<'_>> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in message.char_indices() {
        match (is_separator(c), start) {
            (true, Some(s)) => {
                out.push(Word {
                    text: &message[s..i],
                    start: s,
                    end: i,
                });
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push(Word {
            text: &message[s..],
            start: s,
            end: message.len(),
        });
    }
    out
}

/// Trims separators from both ends: `"1."` and `" 2 "` are answers `1` and `2`.
pub fn trim(message: &str) -> &str {
    message.trim_matches(is_separator)
}

/// A word as compared: accents dropped, upper case.
pub fn fold(word: &str) -> String {
    word.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_uppercase)
        .collect()
}

/// Shortest keyword (in letters) that forgives a typo.
pub const TYPO_MIN_LEN: usize = 4;

/// How closely a folded word names a folded keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Closeness {
    Exact,
    OneTypo,
}

pub fn closeness(word: &str, keyword: &str, typos: bool) -> Option<Closeness> {
    if word == keyword {
        return Some(Closeness::Exact);
    }
    let long_enough = keyword.chars().count() >= TYPO_MIN_LEN;
    (typos && long_enough && strsim::osa_distance(word, keyword) <= 1).then_some(Closeness::OneTypo)
}

/// Keywords to match, each pointing at what it stands for (`T`), and the
/// language it is a word of.
#[derive(Clone, Debug)]
pub struct Keywords<T> {
    entries: Vec<(String, String, T)>,
}

impl<T> Default for Keywords<T> {
    fn default() -> Self {
        Keywords { entries: vec![] }
    }
}

/// A keyword a word matched.
#[derive(Debug, PartialEq, Eq)]
pub struct Hit<'k, T> {
    pub target: &'k T,
    /// The language the keyword is a word of.
    pub lang: &'k str,
    pub closeness: Closeness,
}

impl<T> Keywords<T> {
    pub fn add(&mut self, word: &str, lang: &str, target: T) {
        self.entries.push((fold(word), lang.to_string(), target));
    }

    /// Every keyword `word` names, the closest first (exact matches hide
    /// typo matches: `STATUT` is a keyword of its own, not a typo of `STATUS`).
    pub fn find(&self, word: &str, typos: bool) -> Vec<Hit<'_, T>> {
        let word = fold(word);
        let mut hits: Vec<Hit<'_, T>> = self
            .entries
            .iter()
            .filter_map(|(k, lang, t)| {
                closeness(&word, k, typos).map(|closeness| Hit {
                    target: t,
                    lang,
                    closeness,
                })
            })
            .collect();
        if hits.iter().any(|h| h.closeness == Closeness::Exact) {
            hits.retain(|h| h.closeness == Closeness::Exact);
        }
        hits
    }

    /// Pairs of keywords (as declared, folded) one typo apart that point
    /// at different targets, so a typo between them would be ambiguous.
    pub fn close_pairs(&self) -> Vec<(&str, &str)>
    where
        T: PartialEq,
    {
        let mut out = vec![];
        for (i, (a, _, ta)) in self.entries.iter().enumerate() {
            for (b, _, tb) in &self.entries[i + 1..] {
                if ta != tb && a != b && closeness(a, b, true).is_some() {
                    out.push((a.as_str(), b.as_str()));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &str) -> Vec<&str> {
        words(m).into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn any_run_of_separators_cuts_words() {
        assert_eq!(
            texts("REPORT 7,F..2*Y#  S-HUY+Amina"),
            ["REPORT", "7", "F", "2", "Y", "S-HUY", "Amina"]
        );
        assert_eq!(texts("  ,.*#+ "), Vec::<&str>::new());
        assert_eq!(texts("visit"), ["visit"]);
        let m = "VISIT 12345678 1 Went well, mother home.";
        let w = words(m);
        assert_eq!(&m[w[3].start..], "Went well, mother home.");
        assert_eq!(trim(" 1. "), "1");
        assert_eq!(trim("*#"), "");
    }

    #[test]
    fn folding_drops_case_and_accents() {
        assert_eq!(fold("sígnaler"), "SIGNALER");
        assert_eq!(fold("Visité"), "VISITE");
        assert_eq!(fold("français"), "FRANCAIS");
        assert_eq!(fold("AIDE"), "AIDE");
    }

    #[test]
    fn one_typo_is_forgiven_in_keywords_of_four_letters_or_more() {
        let mut k = Keywords::default();
        k.add("REPORT", "en", 1);
        k.add("VISIT", "en", 2);
        k.add("LANG", "en", 3);
        k.add("ACK", "en", 4);
        let one = |w: &str| -> Vec<i32> { k.find(w, true).iter().map(|h| *h.target).collect() };
        assert_eq!(one("report"), [1]);
        assert_eq!(one("REPROT"), [1], "swapped neighbours");
        assert_eq!(one("REPOT"), [1], "a letter missing");
        assert_eq!(one("REPORTT"), [1], "a letter added");
        assert_eq!(one("REPIRT"), [1], "a letter wrong");
        assert_eq!(one("RIPIRT"), Vec::<i32>::new(), "two typos");
        assert_eq!(one("vísít"), [2]);
        assert_eq!(one("LANF"), [3]);
        assert_eq!(one("ACK"), [4]);
        assert_eq!(one("ACJ"), Vec::<i32>::new(), "three letters: exact only");
        assert!(k.find("REPROT", false).is_empty(), "typos off");
        assert_eq!(k.find("REPROT", true)[0].closeness, Closeness::OneTypo);
    }

    #[test]
    fn an_exact_keyword_hides_its_typo_neighbours() {
        let mut k = Keywords::default();
        k.add("STATUS", "en", "status-en");
        k.add("STATUT", "fr", "status-fr");
        let hits = k.find("statut", true);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].lang, "fr");
        assert_eq!(k.find("STATSU", true).len(), 1);
        assert_eq!(k.close_pairs(), [("STATUS", "STATUT")]);
    }
}
