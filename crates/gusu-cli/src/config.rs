//! Configuration: a TOML file (`--config FILE`, `GUSU_CONFIG`, or `gusu.toml` in the working
//! directory when present), every key overridable by an environment variable
//! `GUSU__SECTION__KEY` (e.g. `GUSU__SESSION__IDLE_TIMEOUT_MINUTES=10`), as Gitea and Grafana do.
//! Unknown keys are errors, from the file or the environment alike.

use std::path::{Path, PathBuf};

use gusu_core::PasswordPolicy;
use serde::Deserialize;

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub store: StoreConfig,
    pub server: ServerConfig,
    pub session: SessionConfig,
    pub password: PasswordPolicy,
    pub cycle: CycleConfig,
    /// `[energy]`: the base year and the intensity targets by year (`[[energy.targets]]`), and
    /// the grid factor basis of stored accounts. No target is invented: without one, none is shown.
    pub energy: gusu_core::carbon::ledger::EnergySettings,
}

/// Evaluation cycle settings (parameters, not published requirements).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CycleConfig {
    /// Days of public notice (公示) for cycles started from now on. 7 is a setting chosen for
    /// the default; set what the city's own rules say.
    pub notice_days: u32,
    /// For rehearsals only: the cycle's rules see the time this many days ahead, so that a
    /// notice period can be passed without waiting. Never set it on a live server (the server
    /// warns when it is set). Audit times are SQLite's own and do not move.
    pub rehearsal_clock_offset_days: i64,
}

impl Default for CycleConfig {
    fn default() -> CycleConfig {
        CycleConfig {
            notice_days: 7,
            rehearsal_clock_offset_days: 0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StoreConfig {
    /// The database; `--db` and `GUSU_DB` take precedence.
    pub db: Option<PathBuf>,
    pub rules: Option<PathBuf>,
    pub regions: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    pub addr: std::net::SocketAddr,
    pub secure_cookies: bool,
    /// HTTPS served by gusu itself: certificate chain and private key, PEM.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// The largest file the imports page accepts, in MiB.
    pub max_upload_mb: usize,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            addr: ([127, 0, 0, 1], 8080).into(),
            // Secure unless turned off for plain-HTTP development.
            secure_cookies: true,
            tls_cert: None,
            tls_key: None,
            max_upload_mb: 32,
        }
    }
}

/// Session settings (parameters, not published requirements).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SessionConfig {
    pub idle_timeout_minutes: u64,
    pub max_failed_sign_ins: u32,
    pub lockout_minutes: u64,
    /// Failed sign-ins from one address before it must wait (0: no limit per address, for a
    /// reverse proxy that every client seems to come from).
    pub max_failed_sign_ins_per_address: u32,
    /// The administrator roles (city, system, security and audit administrator) sign in with a
    /// TOTP code besides the password (等保 level 3 asks two factors of administrators); one not
    /// yet enrolled (`gusu user totp NAME`) is refused. An enrolled account always needs its code.
    pub admin_second_factor: bool,
}

impl Default for SessionConfig {
    fn default() -> SessionConfig {
        SessionConfig {
            idle_timeout_minutes: 30,
            max_failed_sign_ins: 5,
            lockout_minutes: 15,
            max_failed_sign_ins_per_address: 20,
            admin_second_factor: true,
        }
    }
}

/// A value from the environment as TOML would read it: a number or a boolean where it parses as
/// one, else text.
fn env_value(raw: &str) -> toml::Value {
    if let Ok(i) = raw.parse::<i64>() {
        return toml::Value::Integer(i);
    }
    if let Ok(f) = raw.parse::<f64>() {
        return toml::Value::Float(f);
    }
    match raw {
        "true" => toml::Value::Boolean(true),
        "false" => toml::Value::Boolean(false),
        _ => toml::Value::String(raw.to_string()),
    }
}

impl Config {
    /// The file (if any) with the environment's overrides applied.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, String> {
        let mut table: toml::Table = match file {
            None => toml::Table::new(),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                text.parse().map_err(|e: toml::de::Error| {
                    format!("{}: {}", path.display(), e.to_string().trim_end())
                })?
            }
        };
        for (name, raw) in env {
            let Some(path) = name.strip_prefix("GUSU__") else {
                continue;
            };
            let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
            let [section, key] = keys.as_slice() else {
                return Err(format!("{name}: expected GUSU__SECTION__KEY"));
            };
            let entry = table
                .entry(section.clone())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            let toml::Value::Table(section_table) = entry else {
                return Err(format!("{name}: [{section}] is not a section"));
            };
            section_table.insert(key.clone(), env_value(&raw));
        }
        let origin = file
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "environment".into());
        Config::deserialize(toml::Value::Table(table))
            .map_err(|e| format!("{origin}: {}", e.to_string().trim_end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_then_environment() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gusu.toml");
        std::fs::write(
            &file,
            "[session]\nidle_timeout_minutes = 20\n\n[password]\nmin_length = 14\n",
        )
        .unwrap();
        let env = [
            (
                "GUSU__SESSION__IDLE_TIMEOUT_MINUTES".to_string(),
                "10".to_string(),
            ),
            ("PATH".into(), "/bin".into()),
        ];
        let c = Config::load(Some(&file), env).unwrap();
        assert_eq!(c.session.idle_timeout_minutes, 10, "the environment wins");
        assert_eq!(c.password.min_length, 14);
        assert_eq!(c.password.min_classes, 3, "defaults fill the rest");
        assert_eq!(c.server.addr.port(), 8080);
        let c = Config::load(
            None,
            [("GUSU__SERVER__ADDR".to_string(), "0.0.0.0:9000".to_string())],
        )
        .unwrap();
        assert_eq!(c.server.addr.port(), 9000);
    }

    #[test]
    fn cycle_settings() {
        let c = Config::load(None, []).unwrap();
        assert_eq!(c.cycle.notice_days, 7, "the default setting");
        assert_eq!(c.cycle.rehearsal_clock_offset_days, 0);
        let c = Config::load(
            None,
            [("GUSU__CYCLE__NOTICE_DAYS".to_string(), "5".to_string())],
        )
        .unwrap();
        assert_eq!(c.cycle.notice_days, 5);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::load(
            None,
            [("GUSU__SESSION__IDLE_TIMOUT".to_string(), "5".to_string())],
        )
        .unwrap_err();
        assert!(err.contains("idle_timout"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gusu.toml");
        std::fs::write(&file, "[sever]\naddr = \"127.0.0.1:1\"\n").unwrap();
        let err = Config::load(Some(&file), []).unwrap_err();
        assert!(err.contains("gusu.toml") && err.contains("sever"), "{err}");
    }
}
