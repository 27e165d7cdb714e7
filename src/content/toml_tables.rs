//! Reading `campaign.toml` (and a stick's `bundle.toml`) from its TOML tables rather than through
//! a derived `Deserialize`: with the rule keys, an item has fifteen keys, and serde's derived
//! visitors for the campaign and its items, built once per kind of TOML table, were about 25 KB of
//! the appliance's binary, which must stay under 8 MiB. The text is parsed by the same `toml`
//! crate; only the picking of keys is here. Each error names the key and the value; an unknown key
//! is refused, as before. Writing stays serde's (`Serialize`).

use super::campaign_file::{CampaignFile, ItemFile};
use super::texts::{Texts, Translations};
use crate::model::device::MajorClass;
use toml::{Table, Value};

/// The keys a campaign's top level may hold.
const CAMPAIGN_KEYS: [&str; 11] = [
    "format",
    "sequence",
    "name",
    "sender_name",
    "start",
    "end",
    "hours",
    "name_include",
    "name_exclude",
    "items",
    "texts",
];

impl TryFrom<Table> for CampaignFile {
    type Error = String;

    fn try_from(mut t: Table) -> Result<CampaignFile, String> {
        unknown(&t, &CAMPAIGN_KEYS, "the campaign")?;
        let t = &mut t;
        Ok(CampaignFile {
            format: count(t, "format")?.map(|n| n.min(u64::from(u32::MAX)) as u32),
            sequence: count(t, "sequence")?,
            name: text(t, "name")?.ok_or("missing key `name`")?,
            sender_name: text(t, "sender_name")?,
            start: text(t, "start")?,
            end: text(t, "end")?,
            hours: texts(t, "hours")?,
            name_include: texts(t, "name_include")?,
            name_exclude: texts(t, "name_exclude")?,
            items: items(t)?,
            texts: translations(t)?,
        })
    }
}

/// The dashboard form's rules: the campaign's name filters and `[[items]]` tables, nothing else.
pub(super) fn form_rules(text: &str) -> Result<CampaignFile, String> {
    let mut t: Table = toml::from_str(text).map_err(|e| crate::config::one_line(&e.to_string()))?;
    unknown(&t, &["name_include", "name_exclude", "items"], "the rules")?;
    let t = &mut t;
    Ok(CampaignFile {
        name_include: texts(t, "name_include")?,
        name_exclude: texts(t, "name_exclude")?,
        items: items(t)?,
        ..CampaignFile::default()
    })
}

fn items(t: &mut Table) -> Result<Vec<ItemFile>, String> {
    let list = match t.remove("items") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(v) => return Err(format!("items = {v}: must be [[items]] tables")),
    };
    let mut out = Vec::with_capacity(list.len());
    for (i, v) in list.into_iter().enumerate() {
        let Value::Table(table) = v else {
            return Err(format!("items[{i}] = {v}: must be an [[items]] table"));
        };
        out.push(ItemFile::try_from(table).map_err(|e| format!("items[{i}]: {e}"))?);
    }
    Ok(out)
}

fn translations(t: &mut Table) -> Result<Translations, String> {
    let mut out = Translations::new();
    let table = match t.remove("texts") {
        None => return Ok(out),
        Some(Value::Table(table)) => table,
        Some(v) => return Err(format!("texts = {v}: must be [texts.LANG] tables")),
    };
    for (lang, v) in table {
        let Value::Table(mut one) = v else {
            return Err(format!(
                "texts.{lang} = {v}: must be a [texts.{lang}] table"
            ));
        };
        unknown(&one, &["name", "note"], &format!("[texts.{lang}]"))?;
        let texts = Texts {
            name: text(&mut one, "name")?,
            note: text(&mut one, "note")?,
        };
        out.insert(lang, texts);
    }
    Ok(out)
}

/// Refuses a key not in `known`, naming where it was.
fn unknown(t: &Table, known: &[&str], place: &str) -> Result<(), String> {
    match t.keys().find(|k| !known.contains(&k.as_str())) {
        Some(key) => Err(format!(
            "unknown key `{key}` in {place}, expected one of {}",
            known.join(", ")
        )),
        None => Ok(()),
    }
}

/// The keys an `[[items]]` table may hold.
const KEYS: [&str; 15] = [
    "file",
    "sha256",
    "size",
    "mime",
    "classes",
    "cap_total",
    "cap_per_day",
    "name_include",
    "name_exclude",
    "start",
    "end",
    "hours",
    "after",
    "after_minutes",
    "ab_test",
];

impl TryFrom<Table> for ItemFile {
    type Error = String;

    fn try_from(mut t: Table) -> Result<ItemFile, String> {
        unknown(&t, &KEYS, "an [[items]] table")?;
        let t = &mut t;
        Ok(ItemFile {
            file: text(t, "file")?.ok_or("missing key `file` in an [[items]] table")?,
            sha256: text(t, "sha256")?,
            size: count(t, "size")?,
            mime: text(t, "mime")?,
            classes: texts(t, "classes")?
                .iter()
                .map(|c| class(c))
                .collect::<Result<_, _>>()?,
            cap_total: count(t, "cap_total")?,
            cap_per_day: count(t, "cap_per_day")?,
            name_include: texts(t, "name_include")?,
            name_exclude: texts(t, "name_exclude")?,
            start: text(t, "start")?,
            end: text(t, "end")?,
            hours: texts(t, "hours")?,
            after: text(t, "after")?,
            after_minutes: count(t, "after_minutes")?,
            ab_test: text(t, "ab_test")?,
        })
    }
}

fn text(t: &mut Table, key: &str) -> Result<Option<String>, String> {
    match t.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(v) => Err(format!("{key} = {v}: must be text in quotes")),
    }
}

fn count(t: &mut Table, key: &str) -> Result<Option<u64>, String> {
    match t.remove(key) {
        None => Ok(None),
        Some(Value::Integer(n)) if n >= 0 => Ok(Some(n as u64)),
        Some(v) => Err(format!("{key} = {v}: must be a whole number, 0 or more")),
    }
}

fn texts(t: &mut Table, key: &str) -> Result<Vec<String>, String> {
    let bad = |v: &Value| format!("{key} = {v}: must be a list of texts, like [\"a\", \"b\"]");
    match t.remove(key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for v in &items {
                out.push(v.as_str().ok_or_else(|| bad(v))?.to_string());
            }
            Ok(out)
        }
        Some(v) => Err(bad(&v)),
    }
}

fn class(name: &str) -> Result<MajorClass, String> {
    let names: Vec<&str> = MajorClass::ALL.iter().map(|c| c.as_str()).collect();
    MajorClass::ALL
        .into_iter()
        .find(|c| c.as_str() == name)
        .ok_or_else(|| {
            format!(
                "classes: {name:?} is not a device class ({})",
                names.join(", ")
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str) -> Result<ItemFile, String> {
        ItemFile::try_from(text.parse::<Table>().unwrap())
    }

    #[test]
    fn every_key_and_each_mistake_named() {
        let i = item(
            "file = \"a.pdf\"\nsize = 3\nclasses = [\"phone\"]\ncap_total = 5\n\
             name_exclude = [\"*TV*\"]\nhours = [\"17:00-22:00\"]\nafter = \"b.pdf\"\n\
             after_minutes = 10\nab_test = \"x\"",
        )
        .unwrap();
        assert_eq!(
            (i.size, i.cap_total, i.after_minutes),
            (Some(3), Some(5), Some(10))
        );
        assert_eq!(i.classes, [MajorClass::Phone]);
        assert_eq!(i.name_exclude, ["*TV*"]);
        assert!(item("fiel = \"a\"")
            .unwrap_err()
            .starts_with("unknown key `fiel`"));
        assert!(item("size = 3").unwrap_err().contains("missing key `file`"));
        assert_eq!(
            item("file = \"a\"\ncap_total = -1").unwrap_err(),
            "cap_total = -1: must be a whole number, 0 or more"
        );
        assert!(item("file = \"a\"\nhours = \"9-5\"")
            .unwrap_err()
            .starts_with("hours = \"9-5\""));
        assert!(item("file = \"a\"\nclasses = [\"phon\"]")
            .unwrap_err()
            .contains("\"phon\""));
        assert!(item("file = 3")
            .unwrap_err()
            .starts_with("file = 3: must be text"));
    }
}
