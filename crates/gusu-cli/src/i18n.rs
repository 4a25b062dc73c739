//! Chinese first, English on request (`--lang en` or `GUSU_LANG=en`).

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Reads `--lang X` / `--lang=X` from the arguments, else `GUSU_LANG`, else Chinese. Done before
    /// clap parses, because the help text itself depends on it.
    pub fn detect() -> Lang {
        let args: Vec<String> = std::env::args().collect();
        let mut from_args = None;
        for (i, a) in args.iter().enumerate() {
            if let Some(v) = a.strip_prefix("--lang=") {
                from_args = Some(v.to_string());
            } else if a == "--lang" {
                from_args = args.get(i + 1).cloned();
            }
        }
        let value = from_args
            .or_else(|| std::env::var("GUSU_LANG").ok())
            .unwrap_or_default();
        Lang::parse(&value)
    }

    pub fn parse(value: &str) -> Lang {
        if value.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::Zh
        }
    }

    /// Picks the text for this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}
