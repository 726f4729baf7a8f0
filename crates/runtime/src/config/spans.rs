//! Where each key and value of a config file is: the bridge between key paths
//! (`pipelines[1].sinks[0]`) and line/column positions.
//!
//! The file is parsed once into toml's spanned document (`DeTable`), which keeps the byte
//! range of every key and value. Walking it gives, for each key path, the key's and the
//! value's range. A check that finds a problem names the key path; the index turns it into a
//! position. A serde error comes with a position; the index turns it into the key path.

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One key (or array element) of the file.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    /// The key itself (`interval` in `interval = "1s"`); `None` for array elements.
    key: Option<Range<usize>>,
    /// Its value.
    value: Range<usize>,
}

/// The positions of every key path in one file.
#[derive(Debug, Clone, Default)]
pub(crate) struct SpanIndex {
    entries: Vec<Entry>,
}

impl SpanIndex {
    /// Indexes a parsed document.
    pub fn new(document: &Spanned<DeTable<'_>>) -> Self {
        let mut index = Self::default();
        index.walk_table("", document.get_ref());
        index
    }

    fn walk_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (key, value) in table {
            let path = join(prefix, key.get_ref());
            self.entries.push(Entry {
                path: path.clone(),
                key: Some(key.span()),
                value: value.span(),
            });
            self.walk_value(&path, value);
        }
    }

    fn walk_value(&mut self, path: &str, value: &Spanned<DeValue<'_>>) {
        match value.get_ref() {
            DeValue::Table(table) => self.walk_table(path, table),
            DeValue::Array(array) => {
                for (i, item) in array.iter().enumerate() {
                    let item_path = format!("{path}[{i}]");
                    self.entries.push(Entry {
                        path: item_path.clone(),
                        key: None,
                        value: item.span(),
                    });
                    self.walk_value(&item_path, item);
                }
            }
            _ => {}
        }
    }

    /// Where the value at `path` is; for a path that is not in the file (a missing optional
    /// key), where its nearest present ancestor is.
    pub fn value_span(&self, path: &str) -> Option<Range<usize>> {
        let mut path = path;
        loop {
            if let Some(entry) = self.entries.iter().find(|e| e.path == path) {
                return Some(entry.value.clone());
            }
            path = parent(path)?;
        }
    }

    /// The key path of the value spanning exactly `span` (a table serde found incomplete), or
    /// `None`.
    pub fn path_spanning(&self, span: &Range<usize>) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| &e.value == span)
            .map(|e| e.path.as_str())
    }

    /// The key path of the innermost key or value that contains byte `offset`, or `""` (the
    /// top level).
    pub fn path_at(&self, offset: usize) -> &str {
        let contains =
            |range: &Range<usize>| range.start <= offset && offset < range.end.max(range.start + 1);
        self.entries
            .iter()
            .filter(|e| contains(&e.value) || e.key.as_ref().is_some_and(contains))
            // Innermost: a child's range lies within its parent's; among equal ranges (a table
            // header and its first key) the deeper path wins.
            .min_by_key(|e| {
                let span = if e.key.as_ref().is_some_and(contains) {
                    e.key.clone().unwrap_or(0..0)
                } else {
                    e.value.clone()
                };
                (span.len(), usize::MAX - e.path.len())
            })
            .map_or("", |e| e.path.as_str())
    }
}

/// `prefix.key`, quoting keys that are not bare TOML keys (`headers."X-Api-Version"` stays
/// readable and unambiguous).
pub(crate) fn join(prefix: &str, key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    let key = if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    };
    if prefix.is_empty() {
        key
    } else {
        format!("{prefix}.{key}")
    }
}

/// The path one level up: `a.b[2]` → `a.b` → `a` → `` → none.
fn parent(path: &str) -> Option<&str> {
    if path.is_empty() {
        return None;
    }
    let cut = path.rfind(['.', '[']).unwrap_or(0);
    Some(&path[..cut])
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    // An offset inside a multi-byte character counts from that character's start.
    let offset = (0..=offset)
        .rev()
        .find(|&i| text.is_char_boundary(i))
        .unwrap_or(0);
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_from_one() {
        let text = "a = 1\nb = \"é\"\nc = 3\n";
        assert_eq!(line_column(text, 0), (1, 1));
        assert_eq!(line_column(text, 6), (2, 1));
        let c = text.find('c').unwrap();
        assert_eq!(line_column(text, c), (3, 1));
        let quote_after_e = text.rfind('"').unwrap();
        assert_eq!(line_column(text, quote_after_e), (2, 7));
    }

    #[test]
    fn parents_climb_keys_and_indices() {
        assert_eq!(parent("pipelines[1].sinks[0]"), Some("pipelines[1].sinks"));
        assert_eq!(parent("pipelines[1].sinks"), Some("pipelines[1]"));
        assert_eq!(parent("pipelines[1]"), Some("pipelines"));
        assert_eq!(parent("pipelines"), Some(""));
        assert_eq!(parent(""), None);
    }

    #[test]
    fn paths_and_spans_of_a_document() {
        let text =
            "[[sensors]]\nname = \"env\"\ninterval = \"1s\"\n\n[[sensors]]\nname = \"imu\"\n";
        let document = DeTable::parse(text).unwrap();
        let index = SpanIndex::new(&document);
        let second_name = text.rfind("\"imu\"").unwrap();
        assert_eq!(index.path_at(second_name), "sensors[1].name");
        assert_eq!(
            index.path_at(text.find("interval").unwrap()),
            "sensors[0].interval"
        );
        assert_eq!(
            index.value_span("sensors[1].name").map(|s| s.start),
            Some(second_name)
        );
        // A key that is not there: the nearest ancestor that is.
        assert!(index.value_span("sensors[1].bus").is_some());
        assert_eq!(
            join("sinks[0].http.headers", "X-Api"),
            "sinks[0].http.headers.X-Api"
        );
        assert_eq!(join("h", "a b"), "h.\"a b\"");
    }
}
