//! A read's `WHERE`, built from the filters a caller gave: each condition
//! written once, its value bound to the next `$n`. Values are always bound,
//! never spliced into the text. The same on both databases.

use sqlx::{any::AnyArguments, query::Query, Any};

use super::write::Arg;

#[derive(Debug, Default)]
pub(super) struct Conditions {
    parts: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// The placeholder for a new bound value.
    pub fn arg(&mut self, v: impl Into<Arg>) -> String {
        self.args.push(v.into());
        format!("${}", self.args.len())
    }

    /// Adds a condition; `make` receives the placeholder of `v`.
    pub fn with(&mut self, v: impl Into<Arg>, make: impl FnOnce(&str) -> String) {
        let p = self.arg(v);
        self.parts.push(make(&p));
    }

    /// Adds a condition that binds nothing.
    pub fn plain(&mut self, condition: impl Into<String>) {
        self.parts.push(condition.into());
    }

    /// ` WHERE a AND b`, or nothing.
    pub fn clause(&self) -> String {
        if self.parts.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.parts.join(" AND "))
        }
    }

    /// ` AND a AND b`, or nothing: the conditions after a `WHERE` of the
    /// caller's own.
    pub fn and(&self) -> String {
        self.parts.iter().map(|p| format!(" AND {p}")).collect()
    }

    /// Binds every value, in order, to a query of the built text.
    pub fn bind<'q>(&'q self, sql: &'q str) -> Query<'q, Any, AnyArguments<'q>> {
        let mut q = sqlx::query(sql);
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_deref()),
            };
        }
        q
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_in_the_order_values_come() {
        let mut c = Conditions::default();
        assert_eq!(c.clause(), "");
        c.with(3, |p| format!("a = {p}"));
        c.plain("b IS NULL");
        c.with("x", |p| format!("(c = {p} OR d = {p})"));
        let limit = c.arg(10);
        assert_eq!(
            c.clause(),
            " WHERE a = $1 AND b IS NULL AND (c = $2 OR d = $2)"
        );
        assert_eq!(limit, "$3");
    }
}
