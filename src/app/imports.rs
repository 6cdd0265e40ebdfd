//! The case work's [`CsvImport`] port, implemented with the channels' CSV
//! importer (the one `kanda import` runs), so the staff pages import
//! through the same checks and line-numbered errors as the command line.

use std::sync::Arc;

use crate::{
    casework::admin::{CsvImport, ImportFuture, Imported, RowProblem, Sheet},
    channels::import::{ImportError, Importer, Kind},
    domain::Country,
    store::Store,
    text::Texts,
};

#[derive(Debug)]
pub struct AppImports {
    pub store: Store,
    pub country: Country,
    pub texts: Arc<Texts>,
}

fn kind(sheet: Sheet) -> Kind {
    match sheet {
        Sheet::Staff => Kind::Staff,
        Sheet::Rota => Kind::Rota,
        Sheet::Chain => Kind::Chain,
        Sheet::Volunteers => Kind::Volunteers,
    }
}

impl CsvImport for AppImports {
    fn columns(&self, sheet: Sheet) -> &'static [&'static str] {
        kind(sheet).columns()
    }

    fn import<'a>(
        &'a self,
        sheet: Sheet,
        file: &'a str,
        csv: &'a str,
        only_centre: Option<&'a str>,
    ) -> ImportFuture<'a> {
        Box::pin(async move {
            let importer = Importer {
                store: &self.store,
                country: self.country,
                texts: &self.texts,
            };
            match importer
                .import_for(kind(sheet), file, csv.as_bytes(), only_centre)
                .await
            {
                Ok(n) => Ok(Imported::Rows(n)),
                Err(e) => match e.downcast::<ImportError>() {
                    Ok(refused) => Ok(Imported::Refused(
                        refused
                            .errors
                            .into_iter()
                            .map(|e| RowProblem {
                                line: e.line,
                                message: e.message,
                            })
                            .collect(),
                    )),
                    Err(e) => Err(e),
                },
            }
        })
    }
}
