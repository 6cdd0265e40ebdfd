//! The words: Fluent files under `locales/<lang>/*.ftl`, one bundle a language.

use std::{
    collections::{BTreeMap, BTreeSet},
    sync::Arc,
};

use fluent_bundle::{concurrent::FluentBundle, FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;

use super::source::{Problem, SourceFile};
use crate::domain::Locale;

type Bundle = FluentBundle<Arc<FluentResource>>;

/// Where a message is defined, and which variables it uses.
#[derive(Clone, Debug)]
pub struct MessageInfo {
    pub file: String,
    pub line: usize,
    pub variables: BTreeSet<String>,
    /// It places another message, whose variables it passes on.
    pub references_messages: bool,
}

pub struct Texts {
    bundles: BTreeMap<Locale, Bundle>,
    messages: BTreeMap<Locale, BTreeMap<String, MessageInfo>>,
    drafts: BTreeSet<Locale>,
    reference: Locale,
}

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Texts")
            .field("locales", &self.bundles.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// The language every other locale is compared with.
pub const REFERENCE_LOCALE: &str = "en";

fn locale_of(file: &SourceFile) -> Option<&str> {
    let mut parts = file.path.rsplit('/');
    parts.next()?; // the file name
    parts.next()
}

impl Texts {
    /// Parses every file; problems are syntax errors, duplicate ids, messages
    /// missing from a language, and placeholders a language invents.
    pub fn load(files: &[SourceFile]) -> (Option<Texts>, Vec<Problem>) {
        let mut problems = Vec::new();
        let mut bundles: BTreeMap<Locale, Bundle> = BTreeMap::new();
        let mut messages: BTreeMap<Locale, BTreeMap<String, MessageInfo>> = BTreeMap::new();
        let mut drafts = BTreeSet::new();
        let mut first_file: BTreeMap<Locale, SourceFile> = BTreeMap::new();

        for file in files {
            let Some(locale) = locale_of(file).and_then(|l| Locale::parse(l).ok()) else {
                problems.push(Problem::error(
                    file,
                    1,
                    "a locale file must sit in locales/<language>/",
                ));
                continue;
            };
            if file.text.lines().take(3).any(|l| {
                l.trim_start_matches('#')
                    .trim()
                    .starts_with("status: draft")
            }) {
                drafts.insert(locale.clone());
            }
            first_file
                .entry(locale.clone())
                .or_insert_with(|| file.clone());
            let resource = match FluentResource::try_new(file.text.clone()) {
                Ok(r) => r,
                Err((r, errors)) => {
                    for e in errors {
                        problems.push(Problem::error(
                            file,
                            // The broken entry's start, not where the parser gave up.
                            file.line_of(e.slice.as_ref().map_or(e.pos.start, |s| s.start)),
                            format!("Fluent syntax: {}", e.kind),
                        ));
                    }
                    r
                }
            };
            let infos = messages.entry(locale.clone()).or_default();
            for entry in resource.entries() {
                if let ast::Entry::Message(m) = entry {
                    let id = m.id.name.to_string();
                    let line = file.line_containing(&format!("\n{id} ="));
                    let line = if file.text.starts_with(&format!("{id} =")) {
                        1
                    } else {
                        line + 1
                    };
                    let mut found = Found::default();
                    if let Some(p) = &m.value {
                        pattern_variables(p, &mut found);
                    }
                    for a in &m.attributes {
                        pattern_variables(&a.value, &mut found);
                    }
                    if m.value.is_none() {
                        problems.push(Problem::error(
                            file,
                            line,
                            format!("message `{id}` has no text"),
                        ));
                    }
                    if let Some(prev) = infos.insert(
                        id.clone(),
                        MessageInfo {
                            file: file.path.clone(),
                            line,
                            variables: found.variables,
                            references_messages: found.messages,
                        },
                    ) {
                        problems.push(Problem::error(
                            file,
                            line,
                            format!(
                                "message `{id}` is already defined at {}:{}",
                                prev.file, prev.line
                            ),
                        ));
                    }
                }
            }
            let bundle = bundles.entry(locale.clone()).or_insert_with(|| {
                let lang: unic_langid::LanguageIdentifier = locale
                    .as_str()
                    .parse()
                    .unwrap_or_else(|_| REFERENCE_LOCALE.parse().expect("en is a language tag"));
                let mut b = FluentBundle::new_concurrent(vec![lang]);
                // Unicode isolation marks are outside GSM-7: they would halve every screen.
                b.set_use_isolating(false);
                b
            });
            bundle.add_resource_overriding(Arc::new(resource));
        }

        let reference = Locale::parse(REFERENCE_LOCALE).expect("en is a language tag");
        match messages.get(&reference) {
            None => problems.push(Problem {
                file: "locales".into(),
                line: 1,
                message: format!("no `{REFERENCE_LOCALE}` locale: it is the reference every language is checked against"),
                warning: false,
            }),
            Some(reference_messages) => {
                for (locale, msgs) in &messages {
                    if *locale == reference {
                        continue;
                    }
                    let file = &first_file[locale];
                    for (id, info) in reference_messages {
                        match msgs.get(id) {
                            None => problems.push(Problem::error(
                                file,
                                1,
                                format!("`{locale}` has no message `{id}` (defined at {}:{})", info.file, info.line),
                            )),
                            Some(mine) => {
                                for v in mine.variables.difference(&info.variables) {
                                    problems.push(Problem {
                                        file: mine.file.clone(),
                                        line: mine.line,
                                        message: format!(
                                            "message `{id}` uses `${v}`, which `{REFERENCE_LOCALE}` does not: nothing will fill it"
                                        ),
                                        warning: false,
                                    });
                                }
                            }
                        }
                    }
                    for (id, mine) in msgs {
                        if !reference_messages.contains_key(id) {
                            problems.push(Problem {
                                file: mine.file.clone(),
                                line: mine.line,
                                message: format!("message `{id}` is not in `{REFERENCE_LOCALE}`: nothing uses it"),
                                warning: true,
                            });
                        }
                    }
                }
            }
        }

        // Returned even with problems, so that later checks (screen budgets)
        // still run and everything is reported at once; `serve` refuses errors.
        let texts = (!bundles.is_empty()).then_some(Texts {
            bundles,
            messages,
            drafts,
            reference,
        });
        (texts, problems)
    }

    pub fn locales(&self) -> impl Iterator<Item = &Locale> {
        self.bundles.keys()
    }

    pub fn has_locale(&self, locale: &Locale) -> bool {
        self.bundles.contains_key(locale)
    }

    pub fn is_draft(&self, locale: &Locale) -> bool {
        self.drafts.contains(locale)
    }

    pub fn reference(&self) -> &Locale {
        &self.reference
    }

    /// Every message of a language, by id.
    pub fn messages(&self, locale: &Locale) -> impl Iterator<Item = (&String, &MessageInfo)> {
        self.messages.get(locale).into_iter().flatten()
    }

    pub fn message(&self, locale: &Locale, id: &str) -> Option<&MessageInfo> {
        self.messages.get(locale)?.get(id)
    }

    /// Formats message `id`; falls back to the reference locale, then to the id
    /// itself (never panics: `kanda check` is what keeps this from happening).
    pub fn format(&self, locale: &Locale, id: &str, args: Option<&FluentArgs<'_>>) -> String {
        for l in [locale, &self.reference] {
            let Some(bundle) = self.bundles.get(l) else {
                continue;
            };
            let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) else {
                continue;
            };
            let mut errors = Vec::new();
            let text = bundle.format_pattern(pattern, args, &mut errors);
            if !errors.is_empty() {
                tracing::warn!(locale = %l, id, ?errors, "message formatted with errors");
            }
            return text.into_owned();
        }
        tracing::error!(locale = %locale, id, "message missing in every locale");
        id.to_string()
    }

    pub fn plain(&self, locale: &Locale, id: &str) -> String {
        self.format(locale, id, None)
    }

    /// The variables message `id` reads, as [`Texts::format`] would pick it,
    /// so callers build only those arguments; `None` when it may read any
    /// (an unknown message, or one that places other messages).
    pub fn reads(&self, locale: &Locale, id: &str) -> Option<&BTreeSet<String>> {
        let info = [locale, &self.reference]
            .into_iter()
            .find_map(|l| self.message(l, id))?;
        (!info.references_messages).then_some(&info.variables)
    }
}

/// Builds Fluent arguments from string pairs.
pub fn args<'a>(pairs: impl IntoIterator<Item = (&'a str, String)>) -> FluentArgs<'a> {
    let mut a = FluentArgs::new();
    for (k, v) in pairs {
        a.set(k, FluentValue::from(v));
    }
    a
}

#[derive(Default)]
struct Found {
    variables: BTreeSet<String>,
    messages: bool,
}

fn pattern_variables(p: &ast::Pattern<&str>, out: &mut Found) {
    for el in &p.elements {
        if let ast::PatternElement::Placeable { expression } = el {
            expression_variables(expression, out);
        }
    }
}

fn expression_variables(e: &ast::Expression<&str>, out: &mut Found) {
    match e {
        ast::Expression::Select { selector, variants } => {
            inline_variables(selector, out);
            for v in variants {
                pattern_variables(&v.value, out);
            }
        }
        ast::Expression::Inline(i) => inline_variables(i, out),
    }
}

fn inline_variables(i: &ast::InlineExpression<&str>, out: &mut Found) {
    match i {
        ast::InlineExpression::VariableReference { id } => {
            out.variables.insert(id.name.to_string());
        }
        ast::InlineExpression::MessageReference { .. } => out.messages = true,
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_variables(a, out);
            }
            for n in &arguments.named {
                inline_variables(&n.value, out);
            }
        }
        ast::InlineExpression::Placeable { expression } => expression_variables(expression, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(en: &str, fr: &str) -> Texts {
        let file = |path: &str, text: &str| SourceFile {
            path: path.into(),
            text: text.into(),
        };
        let (texts, problems) = Texts::load(&[
            file("locales/en/main.ftl", en),
            file("locales/fr/main.ftl", fr),
        ]);
        assert!(problems.iter().all(|p| p.warning), "{problems:?}");
        texts.unwrap()
    }

    #[test]
    fn a_message_reads_its_own_variables_and_those_of_the_messages_it_places() {
        let t = texts(
            "hello = Hello { $name }\nplain = Plain\nboth = { hello }, { $age }\n",
            "hello = Bonjour { $name }\nplain = Simple\nboth = { hello }, { $age }\nextra = Seulement { $x }\n",
        );
        let fr = Locale::parse("fr").unwrap();
        let names = |id| {
            t.reads(&fr, id)
                .map(|s| s.iter().cloned().collect::<Vec<_>>())
        };
        assert_eq!(names("hello"), Some(vec!["name".to_string()]));
        assert_eq!(names("plain"), Some(vec![]));
        assert_eq!(names("both"), None, "it places `hello`, which reads $name");
        assert_eq!(names("missing"), None);
        assert_eq!(names("extra"), Some(vec!["x".to_string()]));
    }
}
