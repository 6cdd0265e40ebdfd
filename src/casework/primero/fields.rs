//! Which of a case's fields travel to Primero, and under which names: the
//! deployment's mapping file (`KANDA_PRIMERO_FIELDS`; documented with an
//! example in `docs/primero-fields.toml`). Nothing unmapped travels.
//!
//! ```toml
//! [constants]             # sent as written with every new case
//! module_id = "primeroimsmodule-cp"
//!
//! [fields]                # Kanda field = Primero field
//! child_age = "age"
//! concern = { field = "protection_concerns", list = true, values = { neglect = "neglect" } }
//! ```

use std::{collections::BTreeMap, path::Path};

use chrono::TimeZone as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::{domain::from_ms, store::PrimeroCase};

/// A case's field Kanda can send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum KandaField {
    Reference,
    RegistrationDate,
    RegisteredAt,
    Stage,
    Urgent,
    Concern,
    Care,
    ChildName,
    ChildAge,
    ChildSex,
    Disability,
    Channel,
    SelfReport,
    Centre,
    Location,
    District,
    Province,
}

impl KandaField {
    pub const ALL: [KandaField; 17] = [
        KandaField::Reference,
        KandaField::RegistrationDate,
        KandaField::RegisteredAt,
        KandaField::Stage,
        KandaField::Urgent,
        KandaField::Concern,
        KandaField::Care,
        KandaField::ChildName,
        KandaField::ChildAge,
        KandaField::ChildSex,
        KandaField::Disability,
        KandaField::Channel,
        KandaField::SelfReport,
        KandaField::Centre,
        KandaField::Location,
        KandaField::District,
        KandaField::Province,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KandaField::Reference => "reference",
            KandaField::RegistrationDate => "registration_date",
            KandaField::RegisteredAt => "registered_at",
            KandaField::Stage => "stage",
            KandaField::Urgent => "urgent",
            KandaField::Concern => "concern",
            KandaField::Care => "care",
            KandaField::ChildName => "child_name",
            KandaField::ChildAge => "child_age",
            KandaField::ChildSex => "child_sex",
            KandaField::Disability => "disability",
            KandaField::Channel => "channel",
            KandaField::SelfReport => "self_report",
            KandaField::Centre => "centre",
            KandaField::Location => "location",
            KandaField::District => "district",
            KandaField::Province => "province",
        }
    }

    fn parse(s: &str) -> Option<KandaField> {
        KandaField::ALL.into_iter().find(|f| f.name() == s)
    }

    /// The field's value on `case` (`None`: not known; not sent). Dates
    /// are the deployment's local dates.
    fn value(self, case: &PrimeroCase, tz: chrono_tz::Tz) -> Option<Value> {
        let text = |s: &str| Some(Value::String(s.to_string()));
        match self {
            KandaField::Reference => text(&case.reference),
            KandaField::RegistrationDate => text(
                &tz.from_utc_datetime(&from_ms(case.created_at).naive_utc())
                    .format("%Y-%m-%d")
                    .to_string(),
            ),
            KandaField::RegisteredAt => {
                text(&from_ms(case.created_at).to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            }
            KandaField::Stage => text(&case.stage),
            KandaField::Urgent => Some(Value::Bool(case.urgent)),
            KandaField::Concern => text(&case.concern),
            KandaField::Care => case.care.as_deref().and_then(text),
            KandaField::ChildName => case.child_name.as_deref().and_then(text),
            KandaField::ChildAge => case.child_age.map(Value::from),
            KandaField::ChildSex => text(&case.child_sex),
            KandaField::Disability => case.disability.as_deref().and_then(text),
            KandaField::Channel => text(&case.channel),
            KandaField::SelfReport => Some(Value::Bool(case.self_report)),
            KandaField::Centre => text(&case.centre),
            KandaField::Location => text(&case.location),
            KandaField::District => case.district.as_deref().and_then(text),
            KandaField::Province => case.province.as_deref().and_then(text),
        }
    }
}

/// One mapped field: its Primero name, Kanda's values renamed, and whether
/// Primero takes a list (a multi-select such as `protection_concerns`).
#[derive(Clone, Debug, PartialEq)]
struct Mapping {
    field: KandaField,
    primero: String,
    list: bool,
    values: BTreeMap<String, Value>,
}

/// The deployment's mapping: what a push carries.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldMap {
    constants: Map<String, Value>,
    fields: Vec<Mapping>,
}

/// A mapping file that cannot be used, with where and why.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct FieldsError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    constants: toml::Table,
    #[serde(default)]
    fields: BTreeMap<String, Entry>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Entry {
    Name(String),
    Full(Full),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Full {
    field: String,
    #[serde(default)]
    list: bool,
    #[serde(default)]
    values: toml::Table,
}

fn json_of(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => Value::from(f),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(json_of).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, json_of(v))).collect())
        }
    }
}

impl FieldMap {
    /// Reads the mapping file at `path`.
    pub fn load(path: &Path) -> Result<FieldMap, FieldsError> {
        let source = std::fs::read_to_string(path).map_err(|e| FieldsError {
            file: path.display().to_string(),
            line: 0,
            message: format!("cannot read the Primero field mapping: {e}"),
        })?;
        FieldMap::parse(&path.display().to_string(), &source)
    }

    /// Reads a mapping from `source`; `file` names it in errors.
    pub fn parse(file: &str, source: &str) -> Result<FieldMap, FieldsError> {
        let error = |line: usize, message: String| FieldsError {
            file: file.to_string(),
            line,
            message,
        };
        // The line a key is written on, for errors found after parsing.
        let line_of = |key: &str| {
            source
                .lines()
                .position(|l| {
                    l.trim_start()
                        .strip_prefix(key)
                        .is_some_and(|rest| rest.trim_start().starts_with('='))
                })
                .map_or(1, |i| i + 1)
        };
        let parsed: File = toml::from_str(source).map_err(|e| {
            let line = e.span().map_or(1, |s| {
                source[..s.start.min(source.len())].lines().count().max(1)
            });
            error(line, e.message().to_string())
        })?;
        let mut fields = Vec::new();
        let mut seen = BTreeMap::new();
        for (name, entry) in parsed.fields {
            let line = line_of(&name);
            let Some(field) = KandaField::parse(&name) else {
                let known: Vec<_> = KandaField::ALL.iter().map(|f| f.name()).collect();
                return Err(error(
                    line,
                    format!(
                        "`{name}` is not a field of a Kanda case; known: {}",
                        known.join(", ")
                    ),
                ));
            };
            let (primero, list, values) = match entry {
                Entry::Name(primero) => (primero, false, toml::Table::new()),
                Entry::Full(f) => (f.field, f.list, f.values),
            };
            if primero.trim().is_empty() {
                return Err(error(
                    line,
                    format!("`{name}` needs the name of a Primero field"),
                ));
            }
            if let Some(other) = seen.insert(primero.clone(), name.clone()) {
                return Err(error(
                    line,
                    format!("`{name}` and `{other}` both go to Primero's `{primero}`"),
                ));
            }
            fields.push(Mapping {
                field,
                primero,
                list,
                values: values.into_iter().map(|(k, v)| (k, json_of(v))).collect(),
            });
        }
        for key in parsed.constants.keys() {
            if let Some(name) = seen.get(key) {
                return Err(error(
                    line_of(key),
                    format!("Primero's `{key}` is both a constant and the field `{name}`"),
                ));
            }
        }
        fields.sort_by_key(|m| m.field);
        Ok(FieldMap {
            constants: parsed
                .constants
                .into_iter()
                .map(|(k, v)| (k, json_of(v)))
                .collect(),
            fields,
        })
    }

    /// The Kanda fields that travel.
    pub fn mapped(&self) -> impl Iterator<Item = KandaField> + '_ {
        self.fields.iter().map(|m| m.field)
    }

    /// The `data` of a push of `case`: its mapped fields under their
    /// Primero names (values renamed, lists wrapped), and on creation the
    /// constants and the client-generated `id`. A field with no value is
    /// left out.
    pub fn data(
        &self,
        case: &PrimeroCase,
        id: &str,
        creating: bool,
        tz: chrono_tz::Tz,
    ) -> Map<String, Value> {
        let mut data = Map::new();
        if creating {
            data.insert("id".into(), Value::String(id.to_string()));
            data.extend(self.constants.clone());
        }
        for m in &self.fields {
            let Some(mut value) = m.field.value(case, tz) else {
                continue;
            };
            if let Some(renamed) = value.as_str().and_then(|s| m.values.get(s)) {
                value = renamed.clone();
            }
            if m.list && !value.is_array() {
                value = Value::Array(vec![value]);
            }
            data.insert(m.primero.clone(), value);
        }
        data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../../../docs/primero-fields.toml");

    fn case() -> PrimeroCase {
        PrimeroCase {
            case_id: 7,
            client_id: None,
            created: false,
            changes: 1,
            attempts: 0,
            reference: "K-ABC1234".into(),
            stage: "new".into(),
            urgent: true,
            concern: "neglect".into(),
            care: None,
            child_name: Some("Aline".into()),
            child_age: Some(9),
            child_sex: "female".into(),
            disability: None,
            channel: "ussd".into(),
            self_report: false,
            // 2026-12-03T23:30:00Z: the 4th in Kigali (UTC+2).
            created_at: 1_796_340_600_000,
            centre: "CAPE-S".into(),
            location: "RW-S-HUY-01".into(),
            district: Some("RW-S-HUY".into()),
            province: None,
        }
    }

    #[test]
    fn the_documented_example_loads_and_only_mapped_fields_travel() {
        let map = FieldMap::parse("docs/primero-fields.toml", EXAMPLE).unwrap();
        let data = map.data(&case(), "id-1", true, chrono_tz::Tz::Africa__Kigali);
        assert_eq!(data["id"], "id-1");
        assert_eq!(data["module_id"], "primeroimsmodule-cp");
        assert_eq!(data["registration_date"], "2026-12-04");
        assert_eq!(data["age"], 9);
        assert_eq!(data["sex"], "female");
        assert_eq!(data["protection_concerns"], serde_json::json!(["neglect"]));
        assert_eq!(data["status"], "open");
        assert!(
            !data.contains_key("name"),
            "the example maps no name: {data:?}"
        );
        let update = map.data(&case(), "id-1", false, chrono_tz::Tz::Africa__Kigali);
        assert!(!update.contains_key("id") && !update.contains_key("module_id"));
        for key in update.keys() {
            assert!(data.contains_key(key));
        }
    }

    #[test]
    fn a_bad_mapping_says_where_and_why() {
        let e = FieldMap::parse(
            "m.toml",
            "[fields]\nchild_age = \"age\"\nphone = \"phone\"\n",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("m.toml", 3));
        assert!(e.message.contains("`phone` is not a field"), "{e}");
        let e = FieldMap::parse("m.toml", "[fields]\nchild_age = \"age\"\nstage = \"age\"\n")
            .unwrap_err();
        assert!(e.message.contains("both go to Primero's `age`"), "{e}");
        let e = FieldMap::parse("m.toml", "[fields]\n\nchild_age = 3\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = FieldMap::parse("m.toml", "[feilds]\n").unwrap_err();
        assert!(e.message.contains("feilds"), "{e}");
    }
}
