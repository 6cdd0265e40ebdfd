//! Bar charts drawn on the server as SVG, inline in the page: no script,
//! no image request, readable by a screen reader (a title, and every bar's
//! label and number as text). A hidden count (`<10`, `*`) gets no bar: its
//! length would tell what the text hides.

use std::fmt::Write as _;

/// A bar: its label, its value (`None`: hidden or empty) and the text
/// written beside it.
pub struct Bar {
    pub label: String,
    pub value: Option<i64>,
    pub text: String,
}

const ROW: u32 = 22;
const LABEL_W: u32 = 190;
const BAR_W: u32 = 300;
const WIDTH: u32 = LABEL_W + BAR_W + 60;
/// Labels longer than this are cut (the table beside has them whole).
const LABEL_CHARS: usize = 26;

/// Escapes text for SVG content and attributes: the templates' own HTML
/// escaper (`&`, `<`, `>`, `"`, `'`), so a chart and the page around it
/// escape alike.
fn esc(s: &str) -> String {
    askama::filters::escape(s, askama::filters::Html)
        .map(|e| e.to_string())
        .unwrap_or_default()
}

fn cut(s: &str) -> String {
    if s.chars().count() <= LABEL_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(LABEL_CHARS - 1).collect();
        t.push('…');
        t
    }
}

/// A horizontal bar chart titled `title`, one bar a row.
pub fn bars(id: &str, title: &str, bars: &[Bar]) -> String {
    let max = bars
        .iter()
        .filter_map(|b| b.value)
        .max()
        .unwrap_or(0)
        .max(1);
    let height = ROW * bars.len().max(1) as u32 + 4;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="chart" role="img" aria-labelledby="{id}-t {id}-d" viewBox="0 0 {WIDTH} {height}" width="100%" style="max-width:{WIDTH}px" xmlns="http://www.w3.org/2000/svg"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        esc(title),
        esc(&bars
            .iter()
            .map(|b| format!("{}: {}", b.label, b.text))
            .collect::<Vec<_>>()
            .join("; ")),
    );
    for (i, b) in bars.iter().enumerate() {
        let y = ROW * i as u32 + 2;
        let text_y = y + 15;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{text_y}" text-anchor="end" font-size="13" fill="#222">{}</text>"##,
            LABEL_W - 6,
            esc(&cut(&b.label))
        );
        let (w, fill) = match b.value {
            Some(v) if v > 0 => (
                ((v as f64 / max as f64) * BAR_W as f64).round().max(1.0) as u32,
                "#1d4f6e",
            ),
            _ => (0, "none"),
        };
        if w > 0 {
            let _ = write!(
                svg,
                r#"<rect x="{LABEL_W}" y="{}" width="{w}" height="{}" fill="{fill}"/>"#,
                y + 3,
                ROW - 8
            );
        }
        let _ = write!(
            svg,
            r##"<text x="{}" y="{text_y}" font-size="13" fill="#222">{}</text>"##,
            LABEL_W + w + 5,
            esc(&b.text)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_counts_get_no_bar_and_text_is_escaped() {
        let svg = bars(
            "t",
            "Cases <by> district",
            &[
                Bar {
                    label: "Huye".into(),
                    value: Some(40),
                    text: "40".into(),
                },
                Bar {
                    label: "A & B".into(),
                    value: None,
                    text: "<10".into(),
                },
            ],
        );
        assert_eq!(svg.matches("<rect").count(), 1, "{svg}");
        assert!(svg.contains("&#60;10") && svg.contains("A &#38; B"));
        assert!(svg.contains("Cases &#60;by&#62; district"));
        assert!(!svg.contains("<10") && !svg.contains("A & B"));
        assert!(
            svg.contains(r#"width="300""#),
            "the largest bar is full length"
        );
    }
}
