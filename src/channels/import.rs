//! `kanda import`: reference data from CSV, row-numbered errors, all or
//! nothing per file.

use std::{collections::HashMap, fmt, io::Read};

use crate::{
    domain::{
        rota::{Days, Hours, Level},
        Country, Locale, Phone, Role, LEVELS, MAX_PLACE_NAME,
    },
    store::{CentreRow, ChainRow, LocationRow, RotaRow, StaffRow, Store, VolunteerRow},
    text::Texts,
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Locations,
    Centres,
    Volunteers,
    Staff,
    Rota,
    Chain,
}

impl Kind {
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::Locations => &["code", "name", "level", "parent_code"],
            Kind::Centres => &["code", "name", "province_code"],
            Kind::Volunteers => &["phone", "name", "language", "village_code"],
            Kind::Staff => &["phone", "name", "role", "centre_code", "language"],
            Kind::Rota => &["centre_code", "phone", "days", "hours", "fallback"],
            Kind::Chain => &["centre_code", "level", "phone"],
        }
    }
}

#[derive(Debug)]
pub struct RowError {
    pub line: u64,
    pub message: String,
}

#[derive(Debug)]
pub struct ImportError {
    pub file: String,
    pub errors: Vec<RowError>,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.errors {
            writeln!(f, "{}:{}: {}", self.file, e.line, e.message)?;
        }
        write!(
            f,
            "nothing was imported from {}: fix the rows above and run the import again",
            self.file
        )
    }
}

impl std::error::Error for ImportError {}

pub struct Importer<'a> {
    pub store: &'a Store,
    pub country: Country,
    pub texts: &'a Texts,
}

type Record = HashMap<String, String>;

fn read(file: &str, input: impl Read, kind: Kind) -> Result<Vec<(u64, Record)>, ImportError> {
    let fail = |line: u64, message: String| ImportError {
        file: file.to_string(),
        errors: vec![RowError { line, message }],
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(input);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| fail(1, format!("unreadable header: {e}")))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = kind
        .columns()
        .iter()
        .copied()
        .filter(|c| !headers.iter().any(|h| h == c))
        .collect();
    if !missing.is_empty() {
        return Err(fail(
            1,
            format!(
                "missing column(s) {}; expected: {}",
                missing.join(", "),
                kind.columns().join(",")
            ),
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                rows.push((
                    line,
                    headers
                        .iter()
                        .cloned()
                        .zip(r.iter().map(str::to_string))
                        .collect(),
                ));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(RowError {
                    line,
                    message: format!("unreadable row: {e}"),
                });
            }
        }
    }
    refuse_if_any(file, errors)?;
    if rows.is_empty() {
        return Err(fail(1, "no rows under the header".into()));
    }
    Ok(rows)
}

/// Stops the import, naming every bad row, when there is any.
fn refuse_if_any(file: &str, errors: Vec<RowError>) -> Result<(), ImportError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ImportError {
            file: file.to_string(),
            errors,
        })
    }
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= 32
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl Importer<'_> {
    /// Imports one file; returns how many rows were stored.
    pub async fn import(&self, kind: Kind, file: &str, input: impl Read) -> anyhow::Result<usize> {
        self.import_for(kind, file, input, None).await
    }

    /// Imports one file as [`Importer::import`] does. With `only_centre`
    /// (a manager's import from the staff pages) every row must be that
    /// centre's, and a phone that is already another centre's is refused:
    /// each such row is named on its line and nothing is imported.
    pub async fn import_for(
        &self,
        kind: Kind,
        file: &str,
        input: impl Read,
        only_centre: Option<&str>,
    ) -> anyhow::Result<usize> {
        let rows = read(file, input, kind)?;
        if let Some(centre) = only_centre {
            refuse_if_any(file, self.outside_centre(kind, &rows, centre).await?)?;
        }
        let mut errors = Vec::new();
        let err = |errors: &mut Vec<RowError>, line: u64, m: String| {
            errors.push(RowError { line, message: m })
        };
        let stored = match kind {
            Kind::Locations => {
                let mut levels = self.store.location_levels().await?;
                let mut out = Vec::new();
                let mut seen = HashMap::new();
                for (line, r) in &rows {
                    let code = &r["code"];
                    let name = &r["name"];
                    let level = LEVELS
                        .iter()
                        .position(|l| l.eq_ignore_ascii_case(&r["level"]))
                        .map(|i| i as i64 + 1)
                        .or_else(|| {
                            r["level"]
                                .parse::<i64>()
                                .ok()
                                .filter(|l| (1..=4).contains(l))
                        });
                    let parent = Some(r["parent_code"].clone()).filter(|p| !p.is_empty());
                    if !valid_code(code) {
                        err(
                            &mut errors,
                            *line,
                            format!("code `{code}`: letters, digits, - and _ only, at most 32"),
                        );
                    }
                    if let Some(prev) = seen.insert(code.clone(), *line) {
                        err(
                            &mut errors,
                            *line,
                            format!("code `{code}` is already on line {prev}"),
                        );
                    }
                    if name.is_empty() || name.chars().count() > MAX_PLACE_NAME {
                        err(&mut errors, *line, format!("name: 1 to {MAX_PLACE_NAME} characters (it is shown on a phone screen)"));
                    }
                    let Some(level) = level else {
                        err(
                            &mut errors,
                            *line,
                            format!("level `{}`: use {}", r["level"], LEVELS.join(", ")),
                        );
                        continue;
                    };
                    match (&parent, level) {
                        (Some(_), 1) => err(&mut errors, *line, "a province has no parent_code".into()),
                        (None, l) if l > 1 => err(&mut errors, *line, format!("a {} needs a parent_code", LEVELS[l as usize - 1])),
                        (Some(p), l) => match levels.get(p) {
                            Some(pl) if *pl == l - 1 => {}
                            Some(pl) => err(&mut errors, *line, format!("parent `{p}` is a {}, a {} sits in a {}", LEVELS[*pl as usize - 1], LEVELS[l as usize - 1], LEVELS[l as usize - 2])),
                            None => err(&mut errors, *line, format!("parent `{p}` is not defined above this row nor already imported")),
                        },
                        _ => {}
                    }
                    levels.insert(code.clone(), level);
                    out.push(LocationRow {
                        code: code.clone(),
                        name: name.clone(),
                        level,
                        parent_code: parent,
                    });
                }
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_locations(&out).await?
            }
            Kind::Centres => {
                let levels = self.store.location_levels().await?;
                let mut out = Vec::new();
                for (line, r) in &rows {
                    if !valid_code(&r["code"]) {
                        err(
                            &mut errors,
                            *line,
                            format!("code `{}`: letters, digits, - and _ only", r["code"]),
                        );
                    }
                    if r["name"].is_empty() {
                        err(&mut errors, *line, "name is empty".into());
                    }
                    match levels.get(&r["province_code"]) {
                        Some(1) => {}
                        Some(_) => err(
                            &mut errors,
                            *line,
                            format!("`{}` is not a province", r["province_code"]),
                        ),
                        None => err(
                            &mut errors,
                            *line,
                            format!(
                                "province `{}` is unknown: import locations first",
                                r["province_code"]
                            ),
                        ),
                    }
                    out.push(CentreRow {
                        code: r["code"].clone(),
                        name: r["name"].clone(),
                        province_code: r["province_code"].clone(),
                    });
                }
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_centres(&out).await?
            }
            Kind::Volunteers => {
                let levels = self.store.location_levels().await?;
                let mut out = Vec::new();
                let mut seen = HashMap::new();
                for (line, r) in &rows {
                    let village = Some(r["village_code"].clone()).filter(|v| !v.is_empty());
                    if let Some(v) = &village {
                        match levels.get(v) {
                            Some(4) => {}
                            Some(_) => err(&mut errors, *line, format!("`{v}` is not a village")),
                            None => err(
                                &mut errors,
                                *line,
                                format!("village `{v}` is unknown: import locations first"),
                            ),
                        }
                    }
                    if r["name"].is_empty() {
                        err(&mut errors, *line, "name is empty".into());
                    }
                    // Last, as each row's errors have always been listed.
                    if let Some((phone, locale)) = self.phone_and_locale(r, *line, &mut errors) {
                        if let Some(prev) = seen.insert(phone.clone(), *line) {
                            err(
                                &mut errors,
                                *line,
                                format!("phone {phone} is already on line {prev}"),
                            );
                        }
                        out.push(VolunteerRow {
                            phone,
                            name: r["name"].clone(),
                            locale,
                            village_code: village,
                        });
                    }
                }
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_volunteers(&out).await?
            }
            Kind::Staff => {
                let centres = self.store.centre_codes().await?;
                let mut out = Vec::new();
                for (line, r) in &rows {
                    let role = match Role::parse(&r["role"]) {
                        Ok(role) => Some(role),
                        Err(e) => {
                            err(&mut errors, *line, e.to_string());
                            None
                        }
                    };
                    let code = r["centre_code"].trim();
                    match role {
                        // National staff belong to no centre.
                        Some(role) if role.is_national() && !code.is_empty() => err(
                            &mut errors,
                            *line,
                            format!("{role} is a national role: leave centre_code empty"),
                        ),
                        Some(role) if !role.is_national() && code.is_empty() => err(
                            &mut errors,
                            *line,
                            format!("{role} is a centre's role: give its centre_code"),
                        ),
                        _ if !code.is_empty() && !centres.iter().any(|c| c == code) => err(
                            &mut errors,
                            *line,
                            format!("centre `{code}` is unknown: import centres first"),
                        ),
                        _ => {}
                    }
                    if let Some((phone, locale)) = self.phone_and_locale(r, *line, &mut errors) {
                        if let Some(role) = role {
                            out.push(StaffRow {
                                phone,
                                name: r["name"].clone(),
                                role,
                                centre_code: (!code.is_empty()).then(|| code.to_string()),
                                locale,
                            });
                        }
                    }
                }
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_staff(&out).await?
            }
            Kind::Rota => {
                let out = self.rota_rows(&rows, &mut errors).await?;
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_rota(&out).await?
            }
            Kind::Chain => {
                let out = self.chain_rows(&rows, &mut errors).await?;
                refuse_if_any(file, std::mem::take(&mut errors))?;
                self.store.import_chain(&out).await?
            }
        };
        Ok(stored)
    }

    /// The rows that are not `centre`'s to import, each with why: another
    /// centre's code, or a phone that is another centre's person (the
    /// import would move them). A volunteer is their village's centre's.
    async fn outside_centre(
        &self,
        kind: Kind,
        rows: &[(u64, Record)],
        centre: &str,
    ) -> anyhow::Result<Vec<RowError>> {
        let mut errors = Vec::new();
        let mut refuse = |line: u64, message: String| errors.push(RowError { line, message });
        let phone = |r: &Record| Phone::parse(&r["phone"], self.country).ok();
        match kind {
            Kind::Locations | Kind::Centres => refuse(
                1,
                "places and centres are an administrator's to import".into(),
            ),
            Kind::Staff => {
                let staff = self.store.staff_centres().await?;
                for (line, r) in rows {
                    let code = r["centre_code"].trim();
                    if code.is_empty() {
                        refuse(*line, format!("centre_code is empty: national staff (admin, auditor) are an administrator's to add; give {centre}"));
                    } else if code != centre {
                        refuse(
                            *line,
                            format!("centre_code `{code}`: you may import rows of {centre} only"),
                        );
                    }
                    match phone(r).and_then(|p| staff.get(&p).map(|c| (p, c))) {
                        Some((p, Some(other))) if other != centre => refuse(*line, format!("phone {p} is a staff member of {other}: only its manager or an administrator may change them")),
                        Some((p, None)) => refuse(*line, format!("phone {p} is national staff: only an administrator may change them")),
                        _ => {}
                    }
                }
            }
            Kind::Rota | Kind::Chain => {
                for (line, r) in rows {
                    let code = r["centre_code"].trim();
                    if code != centre {
                        refuse(
                            *line,
                            format!("centre_code `{code}`: you may import rows of {centre} only"),
                        );
                    }
                }
            }
            Kind::Volunteers => {
                let villages = self.store.village_centres().await?;
                let volunteers = self.store.volunteer_centres().await?;
                for (line, r) in rows {
                    let village = r["village_code"].trim();
                    match villages.get(village) {
                        _ if village.is_empty() => refuse(
                            *line,
                            format!("village_code is empty: give a village of {centre}'s province"),
                        ),
                        Some(other) if other != centre => refuse(
                            *line,
                            format!("village `{village}` is {other}'s, not {centre}'s"),
                        ),
                        // An unknown village is named by the import's own check.
                        _ => {}
                    }
                    match phone(r).and_then(|p| volunteers.get(&p).map(|c| (p, c))) {
                        Some((p, Some(other))) if other != centre => refuse(*line, format!("phone {p} is a volunteer of {other}: only its manager or an administrator may change them")),
                        Some((p, None)) => refuse(*line, format!("phone {p} is a volunteer with no village: only an administrator may change them")),
                        _ => {}
                    }
                }
            }
        }
        Ok(errors)
    }

    /// A row's centre and phone, when the phone is a staff member of that
    /// centre (any spelling of the number); otherwise the reasons.
    fn centre_staff(
        &self,
        r: &Record,
        centres: &[String],
        staff: &HashMap<Phone, Option<String>>,
    ) -> Result<(String, Phone), Vec<String>> {
        let code = r["centre_code"].clone();
        let mut why = Vec::new();
        let known = centres.contains(&code);
        if !known {
            why.push(format!(
                "centre_code `{code}` is unknown: import centres first"
            ));
        }
        match Phone::parse(&r["phone"], self.country) {
            Err(e) => why.push(format!("phone: {e}")),
            Ok(p) => match staff.get(&p) {
                Some(Some(c)) if *c == code => {
                    if why.is_empty() {
                        return Ok((code, p));
                    }
                }
                Some(other) if known => why.push(match other {
                    Some(other) => format!("phone {p} is a staff member of {other}, not of {code}"),
                    None => format!("phone {p} is national staff, not of {code}"),
                }),
                Some(_) => {}
                None => why.push(format!(
                    "phone {p} is not a staff member: import staff first (committee contacts too, with role committee)"
                )),
            },
        }
        Err(why)
    }

    async fn rota_rows(
        &self,
        rows: &[(u64, Record)],
        errors: &mut Vec<RowError>,
    ) -> anyhow::Result<Vec<RotaRow>> {
        let centres = self.store.centre_codes().await?;
        let staff = self.store.staff_centres().await?;
        let mut out = Vec::new();
        // Each centre in the file: its first line, and whether it has a fallback.
        let mut seen: Vec<(String, u64, bool)> = Vec::new();
        for (line, r) in rows {
            let mut why = Vec::new();
            let who = self
                .centre_staff(r, &centres, &staff)
                .map_err(|w| why.extend(w));
            let days = Days::parse(&r["days"]).map_err(|e| why.push(e));
            let hours = Hours::parse(&r["hours"]).map_err(|e| why.push(e));
            let fallback = parse_yes_no(&r["fallback"]).map_err(|e| why.push(e));
            let code = &r["centre_code"];
            if centres.contains(code) {
                match seen.iter_mut().find(|(c, _, _)| c == code) {
                    Some(s) => s.2 |= fallback == Ok(true),
                    None => seen.push((code.clone(), *line, fallback == Ok(true))),
                }
            }
            errors.extend(why.into_iter().map(|message| RowError {
                line: *line,
                message,
            }));
            if let (Ok((centre_code, phone)), Ok(days), Ok(hours), Ok(fallback)) =
                (who, days, hours, fallback)
            {
                out.push(RotaRow {
                    centre_code,
                    phone,
                    days,
                    hours,
                    fallback,
                });
            }
        }
        for (code, line, has_fallback) in seen {
            if !has_fallback {
                errors.push(RowError {
                    line,
                    message: format!("centre `{code}` has no fallback contact: set fallback to yes on at least one of its rows (who is alerted when no one is on duty)"),
                });
            }
        }
        errors.sort_by_key(|e| e.line);
        Ok(out)
    }

    async fn chain_rows(
        &self,
        rows: &[(u64, Record)],
        errors: &mut Vec<RowError>,
    ) -> anyhow::Result<Vec<ChainRow>> {
        let centres = self.store.centre_codes().await?;
        let staff = self.store.staff_centres().await?;
        let mut out = Vec::new();
        let mut twice: HashMap<(String, Level, Phone), u64> = HashMap::new();
        // Each centre in the file, in order: its levels, each with its first line.
        let mut levels: Vec<(String, std::collections::BTreeMap<Level, u64>)> = Vec::new();
        for (line, r) in rows {
            let mut why = Vec::new();
            let who = self
                .centre_staff(r, &centres, &staff)
                .map_err(|w| why.extend(w));
            let level = Level::parse(&r["level"]).map_err(|e| why.push(e));
            if let (Ok((code, phone)), Ok(level)) = (&who, &level) {
                if let Some(prev) = twice.insert((code.clone(), *level, phone.clone()), *line) {
                    why.push(format!(
                        "phone {phone} is already on level {} of {code}, on line {prev}",
                        level.get()
                    ));
                }
            }
            if let Ok(level) = &level {
                let code = &r["centre_code"];
                if centres.contains(code) {
                    let i = match levels.iter().position(|(c, _)| c == code) {
                        Some(i) => i,
                        None => {
                            levels.push((code.clone(), Default::default()));
                            levels.len() - 1
                        }
                    };
                    levels[i].1.entry(*level).or_insert(*line);
                }
            }
            errors.extend(why.into_iter().map(|message| RowError {
                line: *line,
                message,
            }));
            if let (Ok((centre_code, phone)), Ok(level)) = (who, level) {
                out.push(ChainRow {
                    centre_code,
                    level,
                    phone,
                });
            }
        }
        for (code, found) in levels {
            // Levels run 1, 2, 3...: the first one not where it belongs names the gap.
            if let Some((want, (level, line))) = (1..)
                .zip(&found)
                .find(|(want, (level, _))| level.get() != *want)
            {
                errors.push(RowError {
                    line: *line,
                    message: format!(
                        "level {} of {code}: level {want} is missing (levels start at 1, with no gap)",
                        level.get()
                    ),
                });
            }
        }
        errors.sort_by_key(|e| e.line);
        Ok(out)
    }

    /// A row's `phone` and `language`, each error recorded on its line.
    fn phone_and_locale(
        &self,
        row: &HashMap<String, String>,
        line: u64,
        errors: &mut Vec<RowError>,
    ) -> Option<(Phone, Locale)> {
        let phone = Phone::parse(&row["phone"], self.country).map_err(|e| format!("phone: {e}"));
        let locale = self.locale(&row["language"]);
        match (phone, locale) {
            (Ok(phone), Ok(locale)) => Some((phone, locale)),
            (phone, locale) => {
                for message in [phone.err(), locale.err()].into_iter().flatten() {
                    errors.push(RowError { line, message });
                }
                None
            }
        }
    }

    fn locale(&self, raw: &str) -> Result<Locale, String> {
        let known = || {
            self.texts
                .locales()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        match Locale::parse(raw) {
            Ok(l) if self.texts.has_locale(&l) => Ok(l),
            _ => Err(format!("language `{raw}`: use one of {}", known())),
        }
    }
}

/// Reads the rota's `fallback` column: `yes`/`no`, `oui`/`non`, `1`/`0`
/// (also `true`/`false`, `y`/`n`, `o`).
pub fn parse_yes_no(raw: &str) -> Result<bool, String> {
    match raw.trim().to_lowercase().as_str() {
        "yes" | "y" | "oui" | "o" | "1" | "true" => Ok(true),
        "no" | "n" | "non" | "0" | "false" | "" => Ok(false),
        _ => Err(format!("fallback `{raw}`: use yes or no (oui/non, 1/0)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fallback_reads_yes_and_no_in_english_and_french() {
        for (s, want) in [
            ("yes", true),
            ("OUI", true),
            ("1", true),
            ("no", false),
            ("non", false),
            ("0", false),
        ] {
            assert_eq!(parse_yes_no(s), Ok(want), "{s}");
        }
        assert!(parse_yes_no("maybe")
            .unwrap_err()
            .starts_with("fallback `maybe`"));
    }
}
