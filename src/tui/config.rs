//! `<config dir>/config.toml`: the console's settings.
//!
//! ```toml
//! theme = "dark"               # or light, high-contrast, terminal, mono, or a user theme
//! mouse = true                 # wheel scroll and click to focus (M toggles it)
//! log_buffer_lines = 100000    # lines kept by the logs pane
//! ```

use std::path::Path;

use serde::Deserialize;

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub theme: Option<String>,
    pub mouse: bool,
    pub log_buffer_lines: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            theme: None,
            mouse: true,
            log_buffer_lines: super::panes::logs::DEFAULT_CAPACITY,
        }
    }
}

impl Config {
    pub fn parse(text: &str) -> Result<Config, String> {
        let c: Config = toml::from_str(text).map_err(|e| e.message().to_string())?;
        if c.log_buffer_lines == 0 {
            return Err("log_buffer_lines must be at least 1".into());
        }
        Ok(c)
    }

    pub fn load(config_dir: &Path) -> Result<Config, String> {
        let p = config_dir.join("config.toml");
        match std::fs::read_to_string(&p) {
            Ok(text) => Config::parse(&text).map_err(|e| format!("{}: {e}", p.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(format!("cannot read {}: {e}", p.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        let c = Config::parse("theme = \"light\"\nmouse = false\n").unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
        assert!(!c.mouse);
        assert_eq!(c.log_buffer_lines, 100_000);
        assert!(Config::parse("colour = 1").is_err());
        assert!(Config::parse("log_buffer_lines = 0").is_err());
    }
}
