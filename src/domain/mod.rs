//! The domain: newtypes parsed once at the edge and trusted after (a phone
//! in E.164, a case reference with its check digit, a language tag, a flow
//! id, a secret), the records that cross layers (a new case, a visit, a
//! place, an SMS to queue, a stage), the values of a rota, time, and the
//! meter every layer counts what happens through.
//!
//! Every layer may import this module; it imports no other module of the
//! crate.

mod area;
mod case_ref;
pub mod clock;
mod flow_id;
mod locale;
pub mod meter;
mod period;
mod phone;
mod records;
mod role;
pub mod rota;
mod secret;
mod sms;
mod stage;
mod token;

pub use area::{Area, AreaError};
pub use case_ref::{CaseRef, CaseRefError};
pub use clock::{from_ms, Clock, ManualClock, SharedClock, SystemClock};
pub use flow_id::{FlowId, FlowIdError};
pub use locale::{Locale, LocaleError};
pub use meter::Meter;
pub use period::{parse_date, Period, PeriodError, PeriodKind, MAX_DAYS};
pub use phone::{redact_numbers, Country, Phone, PhoneError, PhoneReader};
pub use records::{Channel, NewCase, NewVisit, Place, LEVELS, MAX_PLACE_NAME};
pub use role::{Actor, Role, RoleError, Scope};
pub use secret::Secret;
pub use sms::{DeliveryStatus, NewSms, SmsKind};
pub use stage::{Stage, StageChange, CLOSE_REASONS, REFERRAL_OUTCOMES, REFERRAL_SERVICES};
pub use token::random_token;
