//! Lines and pages: menu lines as the phone shows them, and long lists cut
//! into pages that each fit the budget, with "more" on all but the last.

use crate::text::gsm::{Units, UssdBudget};

/// Menu lines as the phone shows them: `1. Label`, `2. Label`...
pub fn numbered(labels: Vec<String>) -> Vec<String> {
    labels
        .into_iter()
        .enumerate()
        .map(|(i, l)| line(&(i + 1).to_string(), &l))
        .collect()
}

/// A menu line: `key. label`. (`concat`, not `format!`: the engine joins a
/// few dozen small strings a hop, and `format!` costs several times more.)
pub(super) fn line(key: &str, label: &str) -> String {
    [key, ". ", label].concat()
}

fn join(a: Option<Units>, b: Units) -> Option<Units> {
    Some(a.map_or(b, |a| a.then(b)))
}

fn join_opt(a: Option<Units>, b: Option<Units>) -> Option<Units> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.then(b)),
        (a, b) => a.or(b),
    }
}

/// One screen of a possibly paged list.
#[derive(Clone, Debug)]
pub struct Layout {
    pub text: String,
    pub pages: usize,
    /// The page did not fit even alone and was cut (`kanda check` reports it).
    pub truncated: bool,
}

/// Packs `items` into pages that fit the budget with the header, trailer,
/// footer and (when more follow) the "more" line, and renders page `page`.
pub fn paginate(
    budget: &UssdBudget,
    header: Vec<String>,
    items: Vec<String>,
    trailer: Vec<String>,
    footer: Option<String>,
    more: String,
    page: usize,
) -> Layout {
    let compose = |chunk: &[String], with_more: bool| {
        let mut lines: Vec<&str> = header.iter().map(String::as_str).collect();
        lines.extend(chunk.iter().map(String::as_str));
        lines.extend(trailer.iter().map(String::as_str));
        if with_more {
            lines.push(&more);
        }
        if let Some(f) = &footer {
            lines.push(f);
        }
        lines.join("\n")
    };
    // Each line is measured once; a candidate page's length is then a sum.
    let total = |lines: &[String]| lines.iter().map(|l| Units::of(l)).fold(None, join);
    let fixed = [
        total(&header),
        total(&trailer),
        footer.as_deref().map(Units::of),
    ]
    .into_iter()
    .fold(None, join_opt);
    let item_units: Vec<Units> = items.iter().map(|i| Units::of(i)).collect();
    let more_units = Units::of(&more);
    let fits = |range: std::ops::Range<usize>, with_more: bool| {
        let chunk = item_units[range].iter().copied().fold(None, join);
        let all = join_opt(join_opt(fixed, chunk), with_more.then_some(more_units));
        all.is_none_or(|u| budget.fits_units(u))
    };
    let mut pages: Vec<(usize, usize)> = Vec::new();
    let mut start = 0;
    while start < items.len() || pages.is_empty() {
        if fits(start..items.len(), false) {
            pages.push((start, items.len()));
            break;
        }
        let mut end = start + 1;
        while end < items.len() && fits(start..end + 1, true) {
            end += 1;
        }
        pages.push((start, end));
        start = end;
    }
    let p = page.min(pages.len() - 1);
    let (s, e) = pages[p];
    let text = compose(&items[s..e], p + 1 < pages.len());
    let fits = fits(s..e, p + 1 < pages.len());
    Layout {
        truncated: !fits,
        text: if fits { text } else { budget.truncate(&text) },
        pages: pages.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paging_keeps_every_page_in_budget_and_loses_no_item() {
        let budget = UssdBudget::default();
        let items: Vec<String> = (1..=30)
            .map(|i| format!("{i}. Village number {i}"))
            .collect();
        let mut seen = Vec::new();
        let mut page = 0;
        loop {
            let l = paginate(
                &budget,
                vec!["Village?".into()],
                items.clone(),
                vec![],
                Some("0 Back 00 Menu".into()),
                "98. More".into(),
                page,
            );
            assert!(budget.fits(&l.text), "{}", l.text);
            assert!(!l.text.ends_with(".."), "page {page} was truncated");
            seen.extend(
                l.text
                    .lines()
                    .filter(|x| x.contains("Village number"))
                    .map(String::from),
            );
            page += 1;
            if page == l.pages {
                assert!(!l.text.contains("98."));
                break;
            }
            assert!(l.text.contains("98. More"));
        }
        assert_eq!(seen, items);
    }
}
