//! Durations as the settings write them (whole seconds in `*_secs`, milliseconds in `*_ms`, hours
//! in `*_hours`), read into `Duration` once, as the settings load.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

pub fn seconds<'de, D: Deserializer<'de>>(value: D) -> Result<Duration, D::Error> {
    u64::deserialize(value).map(Duration::from_secs)
}

pub fn millis<'de, D: Deserializer<'de>>(value: D) -> Result<Duration, D::Error> {
    u64::deserialize(value).map(Duration::from_millis)
}

pub fn hours<'de, D: Deserializer<'de>>(value: D) -> Result<Duration, D::Error> {
    u64::deserialize(value).map(|hours| Duration::from_secs(hours.saturating_mul(3600)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::path::Path;
    use std::time::Duration;

    use crate::config::Settings;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        Settings::load_from(
            Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/config")),
            &vars,
        )
        .map_err(|err| err.to_string())
    }

    #[test]
    fn each_duration_is_read_in_the_unit_its_key_names() {
        let settings = settings(&[
            ("APP__SERVER__CLIENT_BODY_TIMEOUT_MS", "250"),
            ("APP__EVENTS__HEARTBEAT_SECS", "7"),
            ("APP__IDEMPOTENCY__KEEP_HOURS", "2"),
        ])
        .unwrap();
        assert_eq!(
            settings.server.client_body_timeout,
            Duration::from_millis(250)
        );
        assert_eq!(settings.events.heartbeat, Duration::from_secs(7));
        assert_eq!(settings.idempotency.keep, Duration::from_secs(7200));
    }

    #[test]
    fn a_zero_duration_that_must_not_be_is_refused_by_its_key() {
        let err = settings(&[("APP__EVENTS__POLL_MS", "0")]).unwrap_err();
        assert!(err.contains("events.poll_ms"), "{err}");
        let err = settings(&[("APP__SERVER__DRAIN_SECS", "soon")]).unwrap_err();
        assert!(err.contains("drain_secs"), "{err}");
    }
}
