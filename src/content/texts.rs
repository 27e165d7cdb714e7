//! A campaign's words in other languages (`[texts.LANG]` in `campaign.toml`), for the hotspot's
//! page: a visitor whose phone asks for German sees the German name and note where the
//! campaign gives them. Checked when the campaign is read, like every other field.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The campaign's name and a line under it, in one language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Texts {
    pub name: Option<String>,
    /// One line shown under the name ("Our hall map and programme").
    pub note: Option<String>,
}

/// Every language's texts, by language tag (`de`, `pt-BR`).
pub type Translations = BTreeMap<String, Texts>;

/// Why the translations cannot be used, naming the language and the field.
pub fn check(texts: &Translations) -> Result<(), String> {
    for (lang, t) in texts {
        if !is_language_tag(lang) {
            return Err(format!(
                "texts.{lang}: not a language tag (two or three letters, then an optional region: de, pt-BR)"
            ));
        }
        for (field, value) in [("name", &t.name), ("note", &t.note)] {
            if let Some(v) = value {
                if v.trim().is_empty() || v.chars().count() > 200 || v.chars().any(char::is_control)
                {
                    return Err(format!(
                        "texts.{lang}.{field}: must be 1 to 200 characters of printable text"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    let region = parts.next();
    (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_lowercase())
        && region.is_none_or(|r| r.len() == 2 && r.bytes().all(|b| b.is_ascii_uppercase()))
        && parts.next().is_none()
}

/// The campaign's language for a browser's `Accept-Language`, best first by its weights: an
/// exact tag, or the same primary language (`de-AT` takes `de`, `de` takes `de-DE`).
pub fn pick<'a>(texts: &'a Translations, accept: &str) -> Option<&'a str> {
    let mut asked: Vec<(f32, &str)> = accept
        .split(',')
        .filter_map(|part| {
            let mut p = part.trim().split(';');
            let tag = p.next()?.trim();
            let q = p
                .find_map(|w| w.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.parse::<f32>().ok())?;
            (q > 0.0 && !tag.is_empty()).then_some((q, tag))
        })
        .collect();
    asked.sort_by(|a, b| b.0.total_cmp(&a.0));
    asked.iter().find_map(|(_, tag)| {
        let primary = |t: &str| t.split('-').next().unwrap_or("").to_ascii_lowercase();
        let wanted = primary(tag);
        texts
            .keys()
            .find(|k| k.eq_ignore_ascii_case(tag))
            .or_else(|| texts.keys().find(|k| primary(k) == wanted))
            .map(String::as_str)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(langs: &[&str]) -> Translations {
        langs
            .iter()
            .map(|l| (l.to_string(), Texts::default()))
            .collect()
    }

    #[test]
    fn the_browsers_best_language_the_campaign_has_wins() {
        let t = some(&["de", "fr", "pt-BR"]);
        assert_eq!(pick(&t, "de-AT,de;q=0.9,en;q=0.8"), Some("de"));
        assert_eq!(pick(&t, "en;q=1.0, fr;q=0.5, de;q=0.7"), Some("de"));
        assert_eq!(pick(&t, "pt"), Some("pt-BR"));
        assert_eq!(pick(&t, "es,en"), None);
        assert_eq!(pick(&t, "de;q=0, fr;q=bad"), None);
        assert_eq!(pick(&t, ""), None);
    }

    #[test]
    fn tags_and_texts_are_checked() {
        assert!(check(&some(&["de", "pt-BR", "fil"])).is_ok());
        assert!(check(&some(&["DE"])).unwrap_err().contains("texts.DE"));
        assert!(check(&some(&["../x"])).is_err());
        let mut bad = some(&["de"]);
        bad.get_mut("de").unwrap().name = Some("a\u{7}b".into());
        assert!(check(&bad).unwrap_err().contains("texts.de.name"));
    }
}
