//! The flags every command takes (each with its `KANDA_*` variable), read
//! into the app's [`Config`].

use std::{path::PathBuf, sync::Arc};

use clap::Args;

use crate::{
    app::config::{
        parse_clock_time, parse_duration, parse_public_url, parse_quiet_hours, parse_rate,
        parse_retention, parse_timezone, Config, PrimeroConfig, QuietSetting, Rate, Retention,
    },
    casework::{outbox::OutboxConfig, primero::PushConfig, scheduler::SchedulerConfig, Deadlines},
    domain::{Country, Locale, Secret},
    gateway::{
        primero::PrimeroSettings,
        settings::{AFRICASTALKING_API_URL, TWILIO_API_URL},
        AfricasTalkingConfig, SmsConfig, SmsProvider, TwilioConfig,
    },
    store::Keyring,
};

#[derive(Args, Debug)]
pub struct Common {
    /// Database: sqlite://FILE (created if missing) or postgres://...
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://kanda.db",
        global = true
    )]
    pub database_url: String,
    /// Flow definitions; the copies built into the binary are used when the folder is absent.
    #[arg(
        long,
        env = "KANDA_FLOWS_DIR",
        default_value = "./flows",
        global = true
    )]
    pub flows_dir: PathBuf,
    /// Fluent texts, one folder per language; built-in copies are used when absent.
    #[arg(
        long,
        env = "KANDA_LOCALES_DIR",
        default_value = "./locales",
        global = true
    )]
    pub locales_dir: PathBuf,
    /// Language for phones with no profile (members of the public).
    #[arg(
        long,
        env = "KANDA_DEFAULT_LOCALE",
        default_value = "en",
        global = true
    )]
    pub default_locale: String,
    /// The deployment's country (ISO 3166 code), to read national phone numbers.
    #[arg(long, env = "KANDA_COUNTRY", default_value = "RW", global = true)]
    pub country: String,
    /// Token gateways must present (`?token=` or HTTP Basic password). Unset: no check.
    #[arg(
        long,
        env = "KANDA_GATEWAY_TOKEN",
        global = true,
        hide_env_values = true
    )]
    pub gateway_token: Option<String>,
    /// The data keys that seal child-identifying fields at rest (base64,
    /// the current one first, comma-separated; make one with `kanda keys new`).
    #[arg(
        long,
        env = "KANDA_DATA_KEY",
        hide_env_values = true,
        global = true,
        conflicts_with = "data_key_file"
    )]
    pub data_key: Option<String>,
    /// Closed cases lose the child's name and the notes after this long
    /// (e.g. 5y, 730d; at least 180 days); `keep`: never.
    #[arg(long, env = "KANDA_RETENTION", default_value = "keep", value_parser = parse_retention, global = true)]
    pub retention: Retention,
    /// A file holding the data keys, one per line, the current one first.
    #[arg(long, env = "KANDA_DATA_KEY_FILE", global = true)]
    pub data_key_file: Option<PathBuf>,
    /// Abandoned USSD sessions are purged after this long (e.g. 90s, 10m).
    #[arg(long, env = "KANDA_SESSION_TTL", default_value = "10m", value_parser = parse_duration, global = true)]
    pub session_ttl: std::time::Duration,
    /// A USSD session with no hop for this long has ended unfinished (the
    /// telco's own time-out, or a lost signal): its answers may be continued.
    #[arg(long, env = "KANDA_SESSION_TIMEOUT", default_value = "60s", value_parser = parse_duration, global = true)]
    pub session_timeout: std::time::Duration,
    /// The next dial from the same phone within this long of an unfinished
    /// session's last hop offers to continue it; then its answers are deleted.
    #[arg(long, env = "KANDA_RESUME_WINDOW", default_value = "15m", value_parser = parse_duration, global = true)]
    pub resume_window: std::time::Duration,
    /// SMS conversations (inbound keywords) end after this long without a message.
    #[arg(long, env = "KANDA_SMS_SESSION_TTL", default_value = "30m", value_parser = parse_duration, global = true)]
    pub sms_session_ttl: std::time::Duration,
    /// SMS segments a reply may take (160 GSM-7 or 70 UCS-2 characters each);
    /// `kanda check` warns about any SMS text that could take more.
    #[arg(long, env = "KANDA_SMS_SEGMENTS", default_value_t = 2, global = true)]
    pub sms_segments: usize,
    /// A staff web session ends after this long without a request.
    #[arg(long, env = "KANDA_WEB_SESSION_TTL", default_value = "8h", value_parser = parse_duration, global = true)]
    pub web_session_ttl: std::time::Duration,
    /// Public base URL the SMS gateways call back (e.g. `https://kanda.example.org`).
    #[arg(long, env = "KANDA_PUBLIC_URL", value_parser = parse_public_url, global = true)]
    pub public_url: Option<String>,
    /// Who sends outgoing SMS: twilio, africastalking, or log (prints them).
    #[arg(
        long,
        env = "KANDA_SMS_PROVIDER",
        value_enum,
        default_value = "log",
        global = true
    )]
    pub sms_provider: SmsProvider,
    /// Twilio account (AC...).
    #[arg(long, env = "KANDA_TWILIO_ACCOUNT_SID", global = true)]
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token (also checks inbound webhook signatures).
    #[arg(long, env = "KANDA_TWILIO_AUTH_TOKEN", value_parser = secret, global = true, hide_env_values = true)]
    pub twilio_auth_token: Option<Secret>,
    /// Twilio sender: a phone number, or a messaging service (MG...).
    #[arg(long, env = "KANDA_TWILIO_FROM", global = true)]
    pub twilio_from: Option<String>,
    #[arg(long, env = "KANDA_TWILIO_API_URL", default_value = TWILIO_API_URL, global = true)]
    pub twilio_api_url: String,
    /// Africa's Talking username (`sandbox` for the sandbox).
    #[arg(long, env = "KANDA_AT_USERNAME", global = true)]
    pub at_username: Option<String>,
    /// Africa's Talking API key.
    #[arg(long, env = "KANDA_AT_API_KEY", value_parser = secret, global = true, hide_env_values = true)]
    pub at_api_key: Option<Secret>,
    /// Africa's Talking sender id or short code; unset: the account's default.
    #[arg(long, env = "KANDA_AT_SENDER", global = true)]
    pub at_sender: Option<String>,
    #[arg(long, env = "KANDA_AT_API_URL", default_value = AFRICASTALKING_API_URL, global = true)]
    pub at_api_url: String,
    /// Messages per second to the provider (or `unlimited`). Default: twilio 1, africastalking 10, log unlimited.
    #[arg(long, env = "KANDA_SMS_RATE", value_parser = parse_rate, global = true)]
    pub sms_rate: Option<Rate>,
    /// One call to the SMS provider gives up after this, and is retried.
    #[arg(long, env = "KANDA_SMS_TIMEOUT", default_value = "15s", value_parser = parse_duration, global = true)]
    pub sms_timeout: std::time::Duration,
    /// Sends tried before a message is marked failed (a 429 does not count).
    #[arg(long, env = "KANDA_OUTBOX_MAX_ATTEMPTS", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..), global = true)]
    pub outbox_max_attempts: u32,
    /// First retry delay; doubles at each retry, up to an hour, with some jitter.
    #[arg(long, env = "KANDA_OUTBOX_BACKOFF", default_value = "10s", value_parser = parse_duration, global = true)]
    pub outbox_backoff: std::time::Duration,
    /// How often the worker looks for messages other instances queued.
    #[arg(long, env = "KANDA_OUTBOX_POLL", default_value = "1s", value_parser = parse_duration, global = true)]
    pub outbox_poll: std::time::Duration,
    /// A message claimed by a worker that died is sent by another after this.
    #[arg(long, env = "KANDA_OUTBOX_LEASE", default_value = "60s", value_parser = parse_duration, global = true)]
    pub outbox_lease: std::time::Duration,
    /// Sends in flight at once, per server (within the rate).
    #[arg(long, env = "KANDA_OUTBOX_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=1024), global = true)]
    pub outbox_concurrency: u32,
    /// Longest wait before the timer scheduler looks for due timers (timers this server schedules wake it at once).
    #[arg(long, env = "KANDA_SCHEDULER_POLL", default_value = "1s", value_parser = parse_duration, global = true)]
    pub scheduler_poll: std::time::Duration,
    /// A timer claimed by a scheduler that died is run by another after this.
    #[arg(long, env = "KANDA_SCHEDULER_LEASE", default_value = "60s", value_parser = parse_duration, global = true)]
    pub scheduler_lease: std::time::Duration,
    /// The deployment's time zone (IANA name): rotas and quiet hours are in its local time.
    #[arg(long, env = "KANDA_TIMEZONE", default_value = "Africa/Kigali", value_parser = parse_timezone, global = true)]
    pub timezone: chrono_tz::Tz,
    /// Hours when reminders wait, local time (e.g. 21:00-07:00, may cross midnight), or `off`.
    #[arg(long, env = "KANDA_QUIET_HOURS", value_parser = parse_quiet_hours, global = true)]
    pub quiet_hours: Option<QuietSetting>,
    /// An alert not acknowledged after this goes to the next level of the escalation chain.
    #[arg(long, env = "KANDA_ACK_TIMEOUT", default_value = "24h", value_parser = parse_duration, global = true)]
    pub ack_timeout: std::time::Duration,
    /// The same for a child in immediate danger; also that case's first-response deadline.
    #[arg(long, env = "KANDA_ACK_TIMEOUT_URGENT", default_value = "1h", value_parser = parse_duration, global = true)]
    pub ack_timeout_urgent: std::time::Duration,
    /// First response (acknowledged and screened) at the most.
    #[arg(long, env = "KANDA_RESPONSE_DEADLINE", default_value = "48h", value_parser = parse_duration, global = true)]
    pub response_deadline: std::time::Duration,
    /// Full assessment, from registration.
    #[arg(long, env = "KANDA_ASSESSMENT_DEADLINE", default_value = "7d", value_parser = parse_duration, global = true)]
    pub assessment_deadline: std::time::Duration,
    /// Case plan, from the assessment.
    #[arg(long, env = "KANDA_PLAN_DEADLINE", default_value = "14d", value_parser = parse_duration, global = true)]
    pub plan_deadline: std::time::Duration,
    /// Review of the plan, at least this often while the case is open.
    #[arg(long, env = "KANDA_REVIEW_INTERVAL", default_value = "90d", value_parser = parse_duration, global = true)]
    pub review_interval: std::time::Duration,
    /// A check visit after closure, within this.
    #[arg(long, env = "KANDA_CLOSURE_CHECK", default_value = "90d", value_parser = parse_duration, global = true)]
    pub closure_check: std::time::Duration,
    /// A follow-up visit by the reporting volunteer, this often while the case is open.
    #[arg(long, env = "KANDA_VISIT_INTERVAL", default_value = "30d", value_parser = parse_duration, global = true)]
    pub visit_interval: std::time::Duration,
    /// When managers get their daily digest of overdue cases (local time, HH:MM).
    #[arg(long, env = "KANDA_DIGEST_AT", default_value = "08:00", value_parser = parse_clock_time, global = true)]
    pub digest_at: u16,
    /// Primero's base URL (e.g. `https://primero.example.org`): when set, each new case is pushed to Primero.
    #[arg(long, env = "KANDA_PRIMERO_URL", value_parser = parse_public_url, global = true)]
    pub primero_url: Option<String>,
    /// The Primero user Kanda signs in as (it must be allowed to create and edit cases).
    #[arg(long, env = "KANDA_PRIMERO_USER", global = true)]
    pub primero_user: Option<String>,
    /// That user's password.
    #[arg(long, env = "KANDA_PRIMERO_PASSWORD", value_parser = secret, global = true, hide_env_values = true)]
    pub primero_password: Option<Secret>,
    /// The field mapping: which case fields travel to Primero, under which names (see docs/primero-fields.toml).
    #[arg(long, env = "KANDA_PRIMERO_FIELDS", global = true)]
    pub primero_fields: Option<PathBuf>,
    /// One request to Primero gives up after this, and is retried.
    #[arg(long, env = "KANDA_PRIMERO_TIMEOUT", default_value = "30s", value_parser = parse_duration, global = true)]
    pub primero_timeout: std::time::Duration,
    /// First retry delay of a push; doubles at each retry, up to an hour, with some jitter.
    #[arg(long, env = "KANDA_PRIMERO_BACKOFF", default_value = "10s", value_parser = parse_duration, global = true)]
    pub primero_backoff: std::time::Duration,
    /// How often the push looks for new cases and changes.
    #[arg(long, env = "KANDA_PRIMERO_POLL", default_value = "2s", value_parser = parse_duration, global = true)]
    pub primero_poll: std::time::Duration,
    /// Token `GET /metrics` asks for (`Authorization: Bearer TOKEN`). Unset: open; bind to a private interface then.
    #[arg(long, env = "KANDA_METRICS_TOKEN", value_parser = secret, global = true, hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// Log lines as `text` (for a terminal) or `json` (one object a line, for a log collector).
    #[arg(
        long,
        env = "KANDA_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    pub log_format: LogFormat,
}

/// How log lines are written (`KANDA_LOG_FORMAT`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

fn secret(s: &str) -> Result<Secret, String> {
    Ok(Secret::new(s.trim()))
}

impl Common {
    /// The data keys, from KANDA_DATA_KEY or KANDA_DATA_KEY_FILE; `None`
    /// when neither is set (`serve` refuses to start but with `--demo`).
    pub fn keyring(&self) -> anyhow::Result<Option<Keyring>> {
        Ok(match (&self.data_key, &self.data_key_file) {
            (Some(keys), _) if !keys.trim().is_empty() => Some(Keyring::parse(keys)?),
            (_, Some(file)) => Some(Keyring::from_file(file)?),
            _ => None,
        })
    }

    pub fn config(&self) -> anyhow::Result<Config> {
        Ok(Config {
            database_url: self.database_url.clone(),
            flows_dir: self.flows_dir.clone(),
            locales_dir: self.locales_dir.clone(),
            default_locale: Locale::parse(&self.default_locale)?,
            country: Country::parse(&self.country)?,
            gateway_token: self
                .gateway_token
                .clone()
                .filter(|t| !t.is_empty())
                .map(Secret::new),
            session_ttl: self.session_ttl,
            session_timeout: self.session_timeout,
            resume_window: self.resume_window,
            public_url: self.public_url.clone(),
            sms_session_ttl: self.sms_session_ttl,
            sms_segments: self.sms_segments,
            sms: self.sms_config()?,
            outbox: OutboxConfig {
                max_attempts: self.outbox_max_attempts,
                backoff: self.outbox_backoff,
                poll: self.outbox_poll,
                lease: self.outbox_lease,
                concurrency: self.outbox_concurrency as usize,
                ..OutboxConfig::default()
            },
            scheduler: SchedulerConfig {
                poll: self.scheduler_poll,
                lease: self.scheduler_lease,
                ..Default::default()
            },
            timezone: self.timezone,
            quiet_hours: self.quiet_hours.and_then(|q| q.0),
            deadlines: Deadlines {
                ack: self.ack_timeout,
                ack_urgent: self.ack_timeout_urgent,
                response: self.response_deadline,
                assessment: self.assessment_deadline,
                plan: self.plan_deadline,
                review: self.review_interval,
                closure_check: self.closure_check,
                visit: self.visit_interval,
                digest_minute: self.digest_at,
            },
            web_session_ttl: self.web_session_ttl,
            primero: self.primero_config()?,
            data_keys: self.keyring()?.map(Arc::new),
            retention: self.retention.0,
            metrics_token: self
                .metrics_token
                .clone()
                .filter(|t| !t.expose().is_empty()),
        })
    }

    /// Primero's settings when `KANDA_PRIMERO_URL` is set; then the
    /// others are needed too, and an error names each one missing.
    fn primero_config(&self) -> anyhow::Result<Option<PrimeroConfig>> {
        let Some(url) = self.primero_url.clone() else {
            return Ok(None);
        };
        let user = self
            .primero_user
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let password = self
            .primero_password
            .clone()
            .filter(|s| !s.expose().is_empty());
        let missing: Vec<&str> = [
            ("KANDA_PRIMERO_USER", user.is_some()),
            ("KANDA_PRIMERO_PASSWORD", password.is_some()),
            ("KANDA_PRIMERO_FIELDS", self.primero_fields.is_some()),
        ]
        .into_iter()
        .filter(|(_, set)| !set)
        .map(|(name, _)| name)
        .collect();
        match (user, password, &self.primero_fields) {
            (Some(user), Some(password), Some(fields)) => Ok(Some(PrimeroConfig {
                server: PrimeroSettings {
                    url,
                    user: user.to_string(),
                    password,
                    timeout: self.primero_timeout,
                },
                fields: fields.clone(),
                push: PushConfig::for_timeout(
                    self.primero_timeout,
                    self.primero_backoff,
                    self.primero_poll,
                ),
            })),
            _ => anyhow::bail!(
                "KANDA_PRIMERO_URL is set: the push to Primero also needs {} (not set)",
                missing.join(", ")
            ),
        }
    }

    /// The provider's settings; the selected provider's missing ones are an
    /// error naming each variable to set.
    fn sms_config(&self) -> anyhow::Result<SmsConfig> {
        let given = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let secret = |v: &Option<Secret>| v.clone().filter(|s| !s.expose().is_empty());
        let url = |u: &str| u.trim().trim_end_matches('/').to_string();
        let twilio = match (
            given(&self.twilio_account_sid),
            secret(&self.twilio_auth_token),
        ) {
            (Some(account_sid), Some(auth_token)) => Some(TwilioConfig {
                account_sid,
                auth_token,
                from: given(&self.twilio_from),
                api_url: url(&self.twilio_api_url),
            }),
            _ => None,
        };
        let africastalking = match (given(&self.at_username), secret(&self.at_api_key)) {
            (Some(username), Some(api_key)) => Some(AfricasTalkingConfig {
                username,
                api_key,
                sender: given(&self.at_sender),
                api_url: url(&self.at_api_url),
            }),
            _ => None,
        };
        let missing: Vec<&str> = match self.sms_provider {
            SmsProvider::Twilio => [
                (
                    "KANDA_TWILIO_ACCOUNT_SID",
                    given(&self.twilio_account_sid).is_some(),
                ),
                (
                    "KANDA_TWILIO_AUTH_TOKEN",
                    secret(&self.twilio_auth_token).is_some(),
                ),
                ("KANDA_TWILIO_FROM", given(&self.twilio_from).is_some()),
            ]
            .into_iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| name)
            .collect(),
            SmsProvider::AfricasTalking => [
                ("KANDA_AT_USERNAME", given(&self.at_username).is_some()),
                ("KANDA_AT_API_KEY", secret(&self.at_api_key).is_some()),
            ]
            .into_iter()
            .filter(|(_, set)| !set)
            .map(|(name, _)| name)
            .collect(),
            SmsProvider::Log => vec![],
        };
        if !missing.is_empty() {
            anyhow::bail!(
                "KANDA_SMS_PROVIDER={} needs {} (not set)",
                self.sms_provider.name(),
                missing.join(", ")
            );
        }
        if self.outbox_lease <= self.sms_timeout {
            anyhow::bail!(
                "KANDA_OUTBOX_LEASE ({}) must be longer than KANDA_SMS_TIMEOUT ({}): a message still being sent would be sent again",
                humantime::format_duration(self.outbox_lease),
                humantime::format_duration(self.sms_timeout)
            );
        }
        Ok(SmsConfig {
            provider: self.sms_provider,
            twilio,
            africastalking,
            rate: match self.sms_rate {
                Some(Rate(r)) => r,
                None => self.sms_provider.default_rate(),
            },
            timeout: self.sms_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::Cli;

    fn config_of(args: &[&str]) -> anyhow::Result<Config> {
        let mut all = vec!["kanda"];
        all.extend_from_slice(args);
        all.push("check");
        Cli::try_parse_from(all)?.common.config()
    }

    #[test]
    fn the_selected_provider_s_missing_settings_are_named() {
        let e = config_of(&["--sms-provider", "twilio", "--twilio-account-sid", "AC1"])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("KANDA_TWILIO_AUTH_TOKEN, KANDA_TWILIO_FROM") && !e.contains("ACCOUNT_SID"),
            "{e}"
        );
        let e = config_of(&["--sms-provider", "africastalking"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("KANDA_AT_USERNAME, KANDA_AT_API_KEY"), "{e}");
        let log = config_of(&[]).unwrap();
        assert_eq!(log.sms.provider, SmsProvider::Log);
        assert_eq!(log.sms.rate, None);
        assert!(log.public_url.is_none() && log.sms.twilio.is_none());
    }

    #[test]
    fn twilio_settings_are_kept_and_their_token_never_printed() {
        let args = [
            "--sms-provider",
            "twilio",
            "--twilio-account-sid",
            "AC1",
            "--twilio-auth-token",
            "hunter2",
            "--twilio-from",
            "+15005550006",
            "--twilio-api-url",
            "http://127.0.0.1:9/",
            "--public-url",
            "https://kanda.example.org/",
        ];
        let mut all = vec!["kanda"];
        all.extend_from_slice(&args);
        all.push("check");
        let cli = Cli::try_parse_from(all).unwrap();
        assert!(!format!("{cli:?}").contains("hunter2"));
        let config = cli.common.config().unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
        let twilio = config.sms.twilio.as_ref().unwrap();
        assert_eq!(twilio.auth_token.expose(), "hunter2");
        assert_eq!(twilio.api_url, "http://127.0.0.1:9");
        assert_eq!(config.sms.rate, Some(1.0), "twilio's default rate");
        assert_eq!(
            config.public_url.as_deref(),
            Some("https://kanda.example.org")
        );
        assert_eq!(config.outbox.max_attempts, 8);
        assert_eq!(config.outbox.backoff, std::time::Duration::from_secs(10));
        assert_eq!(
            config.sms_session_ttl,
            std::time::Duration::from_secs(30 * 60)
        );

        // Twilio's credentials stay known with another provider (inbound
        // signatures), and the rate follows the provider or the flag.
        let at = config_of(&[
            "--sms-provider",
            "africastalking",
            "--at-username",
            "sandbox",
            "--at-api-key",
            "k",
            "--twilio-account-sid",
            "AC1",
            "--twilio-auth-token",
            "t",
        ])
        .unwrap();
        assert!(at.sms.twilio.is_some());
        assert_eq!(at.sms.rate, Some(10.0));
        let fast = config_of(&["--sms-rate", "unlimited"]).unwrap();
        assert_eq!(fast.sms.rate, None);
        let lease = config_of(&["--outbox-lease", "5s", "--sms-timeout", "10s"]);
        assert!(lease
            .unwrap_err()
            .to_string()
            .contains("KANDA_OUTBOX_LEASE"));
    }

    #[test]
    fn time_zone_and_quiet_hours_default_parse_and_name_their_variable() {
        let c = config_of(&[]).unwrap();
        assert_eq!(c.timezone, chrono_tz::Tz::Africa__Kigali);
        assert_eq!(c.quiet_hours, None);
        let c = config_of(&["--timezone", "Europe/Paris", "--quiet-hours", "21:00-07:00"]).unwrap();
        assert_eq!(c.timezone, chrono_tz::Tz::Europe__Paris);
        let q = c.quiet_hours.unwrap();
        assert_eq!((q.start_minute(), q.end_minute()), (21 * 60, 7 * 60));
        assert_eq!(
            config_of(&["--quiet-hours", "off"]).unwrap().quiet_hours,
            None
        );
        let e = config_of(&["--quiet-hours", "07:00-07:00"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("KANDA_QUIET_HOURS: `07:00-07:00`"), "{e}");
        let e = config_of(&["--quiet-hours", "soon"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("KANDA_QUIET_HOURS: `soon`"), "{e}");
        let e = config_of(&["--timezone", "Mars/Olympus"])
            .unwrap_err()
            .to_string();
        assert!(e.contains("KANDA_TIMEZONE: `Mars/Olympus`"), "{e}");
    }

    #[test]
    fn the_scheduler_polls_every_second_with_minute_leases_unless_told() {
        let config = config_of(&[]).unwrap();
        assert_eq!(config.scheduler.poll, std::time::Duration::from_secs(1));
        assert_eq!(config.scheduler.lease, std::time::Duration::from_secs(60));
        let set = config_of(&["--scheduler-poll", "250ms", "--scheduler-lease", "5m"]).unwrap();
        assert_eq!(set.scheduler.poll, std::time::Duration::from_millis(250));
        assert_eq!(set.scheduler.lease, std::time::Duration::from_secs(300));
        assert!(config_of(&["--scheduler-poll", "soon"]).is_err());
    }
}
