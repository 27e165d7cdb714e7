//! Filters on the Bluetooth name a phone announces: "only phones called `Galaxy*`", "never
//! `[TV]*` or `DESKTOP-*`". A marketer writes globs (`*` any text, `?` one character; a glob
//! matches the whole name), or a regular expression between slashes (`/^Pixel [6-9]/`, found
//! anywhere in the name unless anchored, as expressions are). Both ignore case. Matching is done
//! by the `regex` crate, which runs in linear time whatever the pattern (its `bytes` API, the one
//! the MySQL driver already links in); a pattern whose compiled form would be large (a
//! pathological repetition) is refused when the campaign is loaded, with a line that names it.
//!
//! Phones without a name (many never answer the name request) are a stated case: an include list
//! lets none of them through, an exclude list keeps none of them out.

use regex::bytes::{Regex, RegexBuilder};
use std::fmt;

/// The longest pattern accepted.
const MAX_PATTERN: usize = 200;
/// The most memory one compiled pattern may take; beyond it the pattern is "too complex".
const MAX_COMPILED: usize = 256 * 1024;

/// One include or exclude pattern as written, and compiled.
#[derive(Clone)]
pub struct Pattern {
    text: String,
    regex: Regex,
}

impl Pattern {
    /// Parses a glob, or a regular expression between slashes; the error says why not.
    pub fn parse(text: &str) -> Result<Pattern, String> {
        let bad = |why: &str| format!("{text:?}: {why}");
        if text.trim().is_empty() {
            return Err(bad("an empty pattern matches nothing useful"));
        }
        if text.len() > MAX_PATTERN {
            return Err(bad(&format!("longer than {MAX_PATTERN} characters")));
        }
        if text.chars().any(char::is_control) {
            return Err(bad("control characters are not allowed"));
        }
        let source = match text.strip_prefix('/').and_then(|t| t.strip_suffix('/')) {
            Some(re) if !re.is_empty() => re.to_string(),
            _ => glob_to_regex(text),
        };
        let regex = RegexBuilder::new(&source)
            .case_insensitive(true)
            .size_limit(MAX_COMPILED)
            .dfa_size_limit(MAX_COMPILED)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => bad("too complex (a pathological repetition)"),
                other => bad(&format!(
                    "not a regular expression ({})",
                    crate::config::one_line(&other.to_string())
                )),
            })?;
        Ok(Pattern {
            text: text.to_string(),
            regex,
        })
    }

    pub fn matches(&self, name: &str) -> bool {
        self.regex.is_match(name.as_bytes())
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }
}

/// `Galaxy*` as an anchored regular expression: `*` any text, `?` one character, the rest literal.
fn glob_to_regex(glob: &str) -> String {
    let mut out = String::from("^");
    let mut literal = String::new();
    for c in glob.chars() {
        let wild = match c {
            '*' => ".*",
            '?' => ".",
            _ => {
                literal.push(c);
                continue;
            }
        };
        out.push_str(&regex::escape(&literal));
        literal.clear();
        out.push_str(wild);
    }
    out.push_str(&regex::escape(&literal));
    out.push('$');
    out
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Pattern) -> bool {
        self.text == other.text
    }
}

impl Eq for Pattern {}

impl fmt::Debug for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.text)
    }
}

/// Include and exclude patterns; empty lets every phone through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameFilter {
    pub include: Vec<Pattern>,
    pub exclude: Vec<Pattern>,
}

impl NameFilter {
    /// Parses both lists; the error names the key and the pattern.
    pub fn parse(include: &[String], exclude: &[String]) -> Result<NameFilter, String> {
        let list = |key: &str, texts: &[String]| -> Result<Vec<Pattern>, String> {
            let mut out = Vec::with_capacity(texts.len());
            for t in texts {
                out.push(Pattern::parse(t).map_err(|e| format!("{key} = {e}"))?);
            }
            Ok(out)
        };
        Ok(NameFilter {
            include: list("name_include", include)?,
            exclude: list("name_exclude", exclude)?,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    /// Whether a phone of this name (none: it never said) passes.
    pub fn admits(&self, name: Option<&str>) -> bool {
        match name.filter(|n| !n.is_empty()) {
            None => self.include.is_empty(),
            Some(n) => {
                (self.include.is_empty() || self.include.iter().any(|p| p.matches(n)))
                    && !self.exclude.iter().any(|p| p.matches(n))
            }
        }
    }

    /// In words, for the dashboard and the report: `names Galaxy*, not *TV*`.
    pub fn describe(&self) -> Option<String> {
        let join = |ps: &[Pattern]| {
            ps.iter()
                .map(|p| p.as_str().to_string())
                .collect::<Vec<_>>()
                .join(" or ")
        };
        match (self.include.is_empty(), self.exclude.is_empty()) {
            (true, true) => None,
            (false, true) => Some(format!("names {}", join(&self.include))),
            (true, false) => Some(format!("names not {}", join(&self.exclude))),
            (false, false) => Some(format!(
                "names {}, not {}",
                join(&self.include),
                join(&self.exclude)
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(include: &[&str], exclude: &[&str]) -> NameFilter {
        let own = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        NameFilter::parse(&own(include), &own(exclude)).unwrap()
    }

    #[test]
    fn globs_match_the_whole_name_ignoring_case() {
        let f = filter(&["galaxy*", "Pixel ?"], &["*tv*"]);
        assert!(f.admits(Some("Galaxy S24")));
        assert!(f.admits(Some("PIXEL 9")));
        assert!(!f.admits(Some("Pixel 10")));
        assert!(!f.admits(Some("My Galaxy")));
        assert!(!f.admits(Some("Galaxy TV")));
        // Regex characters in a glob are literal.
        let dots = filter(&["a.b(c)*"], &[]);
        assert!(dots.admits(Some("A.B(C) phone")));
        assert!(!dots.admits(Some("axb(c)")));
        let odd = filter(&["[tv] a-b#c&d~e{1}^$|+"], &[]);
        assert!(odd.admits(Some("[TV] A-B#C&D~E{1}^$|+")));
        // Beyond ASCII too.
        assert!(filter(&["jürgen*"], &[]).admits(Some("JÜRGEN's Handy")));
    }

    #[test]
    fn regular_expressions_between_slashes() {
        let f = filter(&["/^Pixel [6-9]/", "/\\d{4}\\D/"], &[]);
        assert!(f.admits(Some("pixel 7a")));
        assert!(!f.admits(Some("Pixel 5")));
        assert!(
            f.admits(Some("Nokia 3310i")),
            "found anywhere unless anchored"
        );
        assert!(!f.admits(Some("Nokia 3310")));
    }

    #[test]
    fn phones_without_a_name_are_a_stated_case() {
        assert!(!filter(&["*"], &[]).admits(None));
        assert!(filter(&[], &["*"]).admits(None));
        assert!(filter(&[], &["*"]).admits(Some("")));
        assert!(NameFilter::default().admits(None));
    }

    #[test]
    fn malformed_and_pathological_patterns_are_refused_with_a_line() {
        let err = |s: &str| NameFilter::parse(&[s.to_string()], &[]).unwrap_err();
        assert!(err("/(unclosed/").starts_with("name_include = \"/(unclosed/\": not a regular"));
        assert!(err("/(a{1000}){1000}/").contains("too complex"));
        assert!(err("").contains("empty"));
        assert!(err(&"x".repeat(201)).contains("longer than 200"));
        assert!(err("bell\u{7}").contains("control"));
        assert!(!err("/(unclosed/").contains('\n'));
    }
}
