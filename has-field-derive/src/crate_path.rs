//! The path of the `has_field` crate in generated code when the struct has no
//! `#[has_field(crate = "...")]`: found by reading the invoking package's `Cargo.toml`.
//!
//! A crate that depends only on `rcu` reaches `has_field` as `::rcu::has_field`, and a
//! crate that renames a dependency reaches it under the new name. The derive cannot ask
//! the compiler how a crate is named, so it reads the dependency tables of the manifest.
//! The reader works line by line and understands only the parts of TOML that can name a
//! dependency: tables and dotted keys, inline tables, strings, comments, and arrays or
//! strings that span lines. Anything it does not recognise leaves the default
//! `::has_field`.

use std::ffi::OsString;
use std::path::Path;
use std::sync::Mutex;

const HAS_FIELD: &str = "has-field";
const RCU: &str = "rcu";

/// Returns the segments of the path that generated code should use for the `has_field`
/// crate, such as `["rcu", "has_field"]` for `::rcu::has_field`.
pub fn default_crate_path() -> Vec<String> {
    /// The last manifest directory and its answer. One compiler process expands every
    /// derive of a crate, so this reads the manifest once per crate, not once per struct.
    static LAST: Mutex<Option<(OsString, Vec<String>)>> = Mutex::new(None);

    let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        return has_field_itself();
    };
    let mut last = LAST.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some((cached_dir, path)) = last.as_ref() {
        if *cached_dir == dir {
            return path.clone();
        }
    }
    let path = match std::fs::read_to_string(Path::new(&dir).join("Cargo.toml")) {
        Ok(text) => Manifest::parse(&text).crate_path(),
        Err(_) => has_field_itself(),
    };
    *last = Some((dir, path.clone()));
    path
}

fn has_field_itself() -> Vec<String> {
    vec!["has_field".to_owned()]
}

/// The dependency table a dependency is declared in. The order is the order of
/// preference: a crate from `[dependencies]` is visible to the library, its tests and its
/// examples, one from `[dev-dependencies]` only to the tests and examples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Normal,
    Dev,
    Build,
}

#[derive(Debug, PartialEq, Eq)]
struct Dependency {
    kind: Kind,
    /// The `cfg(...)` or target triple of a `[target.'...'.dependencies]` table.
    target: Option<String>,
    /// The key in the dependency table, which is the crate's name in code after `-` is
    /// replaced by `_`.
    key: String,
    /// The package on crates.io or in the workspace: the key, or `package = "..."`.
    // NOTE: `hf.workspace = true` takes its `package` from `[workspace.dependencies]` in
    // the workspace root, which is not read, so such a rename is taken as package `hf`.
    package: String,
}

impl Dependency {
    /// Returns the name under which code of the dependent crate reaches this dependency,
    /// or `None` when the key cannot be a crate name.
    fn crate_name(&self) -> Option<String> {
        let name = self.key.replace('-', "_");
        let mut chars = name.chars();
        let starts_well = chars
            .next()
            .is_some_and(|first| first.is_ascii_alphabetic() || first == '_');
        let valid = starts_well && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then_some(name)
    }
}

/// The parts of a manifest that the derive reads: the package name and the dependencies.
#[derive(Debug, Default)]
struct Manifest {
    /// `name` in `[package]`.
    package_name: Option<String>,
    dependencies: Vec<Dependency>,
}

impl Manifest {
    fn parse(text: &str) -> Manifest {
        let mut manifest = Manifest::default();
        let mut scanner = Scanner::default();
        let mut table: Vec<String> = Vec::new();
        let mut entry = String::new();

        for line in text.lines() {
            let starts_entry = scanner.is_outside_value();
            let code = scanner.strip_comment(line);

            if starts_entry {
                let trimmed = code.trim();
                if trimmed.is_empty() {
                    continue;
                }
                if trimmed.starts_with('[') {
                    table = parse_header(trimmed);
                    manifest.record(&table, None);
                    // A malformed header must not leave the rest of the file inside it.
                    scanner = Scanner::default();
                    continue;
                }
                entry.push_str(code);
            } else {
                // A value that spans lines: an array, a TOML 1.1 inline table, or a
                // multi-line string.
                entry.push('\n');
                entry.push_str(code);
            }

            if scanner.is_outside_value() {
                if let Some(equals) = find_unquoted(&entry, b'=', false) {
                    let mut path = table.clone();
                    path.extend(split_dotted_key(&entry[..equals]));
                    manifest.record(&path, Some(entry[equals + 1..].trim()));
                }
                entry.clear();
            }
        }

        manifest
    }

    /// Records the package name or the dependency that the key `path`, with its `value` if
    /// it has one, declares.
    fn record(&mut self, path: &[String], value: Option<&str>) {
        if let [table, rest @ ..] = path {
            if table == "package" {
                if let ([key], Some(value)) = (rest, value) {
                    if key == "name" {
                        self.package_name = parse_string(value);
                    }
                }
                return;
            }
        }

        let (kind, target, rest) = match path {
            [target_table, target, kind, rest @ ..] if target_table == "target" => {
                (kind, Some(target), rest)
            }
            [kind, rest @ ..] => (kind, None, rest),
            [] => return,
        };
        let kind = match kind.as_str() {
            "dependencies" => Kind::Normal,
            "dev-dependencies" | "dev_dependencies" => Kind::Dev,
            "build-dependencies" | "build_dependencies" => Kind::Build,
            _ => return,
        };
        let Some((key, subkeys)) = rest.split_first() else {
            return;
        };

        let dependency = self.dependency(kind, target, key);
        let package = match (subkeys, value) {
            // `has-field = { package = "...", ... }`, or a version string.
            ([], Some(value)) => inline_table_value(value, "package"),
            // `hf.package = "has-field"`, or `package = "..."` under `[dependencies.hf]`.
            ([subkey], Some(value)) if subkey == "package" => parse_string(value),
            _ => None,
        };
        if let Some(package) = package {
            dependency.package = package;
        }
    }

    /// Returns the dependency declared under `key`, adding it if this is its first key.
    fn dependency(&mut self, kind: Kind, target: Option<&String>, key: &str) -> &mut Dependency {
        let position = self.dependencies.iter().position(|dependency| {
            dependency.kind == kind && dependency.target.as_ref() == target && dependency.key == key
        });
        let index = position.unwrap_or_else(|| {
            self.dependencies.push(Dependency {
                kind,
                target: target.cloned(),
                key: key.to_owned(),
                package: key.to_owned(),
            });
            self.dependencies.len() - 1
        });
        &mut self.dependencies[index]
    }

    /// Chooses the path of the `has_field` crate. Dependencies are ranked by kind (normal,
    /// dev, build), with an unconditional table before a target-specific one of the same
    /// kind. In the first table that has either, `has-field` wins over `rcu`.
    fn crate_path(&self) -> Vec<String> {
        if self.package_name.as_deref() == Some(HAS_FIELD) {
            return has_field_itself();
        }

        let mut candidates: Vec<(&Dependency, String)> = self
            .dependencies
            .iter()
            .filter(|dependency| dependency.package == HAS_FIELD || dependency.package == RCU)
            .filter_map(|dependency| Some((dependency, dependency.crate_name()?)))
            .collect();
        candidates.sort_by_key(|(dependency, _)| {
            (
                dependency.kind,
                dependency.target.is_some(),
                dependency.package != HAS_FIELD,
            )
        });

        match candidates.into_iter().next() {
            Some((dependency, name)) if dependency.package == HAS_FIELD => vec![name],
            Some((_, name)) => vec![name, "has_field".to_owned()],
            None => has_field_itself(),
        }
    }
}

/// The kind of string a line ends inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    MultiLineBasic,
    MultiLineLiteral,
}

/// Tracks, across lines, whether the reader is inside a multi-line string or an
/// unclosed bracket.
#[derive(Default)]
struct Scanner {
    quote: Option<Quote>,
    depth: usize,
}

impl Scanner {
    fn is_outside_value(&self) -> bool {
        self.quote.is_none() && self.depth == 0
    }

    /// Returns `line` up to its comment, updating the string and bracket state.
    fn strip_comment<'a>(&mut self, line: &'a str) -> &'a str {
        let bytes = line.as_bytes();
        let mut single_line_quote: Option<u8> = None;
        let mut i = 0;

        while i < bytes.len() {
            let rest = &bytes[i..];
            match (self.quote, single_line_quote) {
                (Some(Quote::MultiLineBasic), _) => {
                    if rest[0] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if rest.starts_with(b"\"\"\"") {
                        self.quote = None;
                        i += 3;
                        continue;
                    }
                }
                (Some(Quote::MultiLineLiteral), _) => {
                    if rest.starts_with(b"'''") {
                        self.quote = None;
                        i += 3;
                        continue;
                    }
                }
                (None, Some(quote)) => {
                    if rest[0] == b'\\' && quote == b'"' {
                        i += 2;
                        continue;
                    }
                    if rest[0] == quote {
                        single_line_quote = None;
                    }
                }
                (None, None) => match rest[0] {
                    b'#' => return &line[..i],
                    b'"' if rest.starts_with(b"\"\"\"") => {
                        self.quote = Some(Quote::MultiLineBasic);
                        i += 3;
                        continue;
                    }
                    b'\'' if rest.starts_with(b"'''") => {
                        self.quote = Some(Quote::MultiLineLiteral);
                        i += 3;
                        continue;
                    }
                    quote @ (b'"' | b'\'') => single_line_quote = Some(quote),
                    b'[' | b'{' => self.depth += 1,
                    b']' | b'}' => self.depth = self.depth.saturating_sub(1),
                    _ => {}
                },
            }
            i += 1;
        }

        line
    }
}

/// Splits a table header such as `[target.'cfg(unix)'.dependencies]` into its keys. An
/// array-of-tables header such as `[[bin]]` gives keys that never name a dependency.
fn parse_header(header: &str) -> Vec<String> {
    let inner = header.trim_start_matches('[');
    let end = find_unquoted(inner, b']', false).unwrap_or(inner.len());
    let mut keys = split_dotted_key(&inner[..end]);
    if header.starts_with("[[") {
        keys.insert(0, "[[array of tables]]".to_owned());
    }
    keys
}

/// Splits a dotted key such as `has-field.workspace` or `"has-field".package`, removing
/// quotes and the spaces around dots.
fn split_dotted_key(key: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut rest = key;
    loop {
        let dot = find_unquoted(rest, b'.', false);
        let part = rest[..dot.unwrap_or(rest.len())].trim();
        keys.push(unquote(part).unwrap_or(part).to_owned());
        match dot {
            Some(dot) => rest = &rest[dot + 1..],
            None => return keys,
        }
    }
}

/// Returns the position of the first `byte` outside quotes, and with `top_level` also
/// outside brackets and braces.
fn find_unquoted(text: &str, byte: u8, top_level: bool) -> Option<usize> {
    let mut quote: Option<u8> = None;
    let mut depth = 0usize;
    let bytes = text.as_bytes();
    let mut i = 0;

    while i < bytes.len() {
        let current = bytes[i];
        match quote {
            Some(b'"') if current == b'\\' => i += 1,
            Some(open) if current == open => quote = None,
            Some(_) => {}
            None if current == byte && (!top_level || depth == 0) => return Some(i),
            None => match current {
                b'"' | b'\'' => quote = Some(current),
                b'[' | b'{' => depth += 1,
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            },
        }
        i += 1;
    }
    None
}

/// Returns the contents of a one-line string, `"..."` or `'...'`, that starts `value`.
/// Escapes are not decoded: package names have no use for them.
fn parse_string(value: &str) -> Option<String> {
    let value = value.trim();
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let inner = &value[1..];
    let end = inner.find(quote)?;
    Some(inner[..end].to_owned())
}

fn unquote(key: &str) -> Option<&str> {
    let quote = key.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    key[1..].strip_suffix(quote)
}

/// Returns the string value of `key` in an inline table such as
/// `{ package = "has-field", version = "1" }`, or `None` when `value` is not an inline
/// table or has no such string.
fn inline_table_value(value: &str, key: &str) -> Option<String> {
    let inner = value.trim().strip_prefix('{')?;
    let end = find_unquoted(inner, b'}', true).unwrap_or(inner.len());
    let mut rest = &inner[..end];

    loop {
        let comma = find_unquoted(rest, b',', true);
        let pair = &rest[..comma.unwrap_or(rest.len())];
        if let Some(equals) = find_unquoted(pair, b'=', false) {
            if split_dotted_key(&pair[..equals]) == [key] {
                return parse_string(&pair[equals + 1..]);
            }
        }
        match comma {
            Some(comma) => rest = &rest[comma + 1..],
            None => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_for(manifest: &str) -> String {
        Manifest::parse(manifest).crate_path().join("::")
    }

    #[test]
    fn plain_dependency_on_has_field() {
        let manifest = r#"
            [package]
            name = "user"

            [dependencies]
            has-field = "0.1"
        "#;
        assert_eq!(path_for(manifest), "has_field");
    }

    #[test]
    fn rcu_only_reaches_reexport() {
        let manifest = r#"
            [package]
            name = "user"
            [dependencies]
            rcu = { path = "../rcu" }
            log = "0.4"
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }

    #[test]
    fn has_field_wins_over_rcu() {
        let manifest = r#"
            [dependencies]
            rcu = "0.1"
            has-field = { version = "0.1", features = ["derive"] }
        "#;
        assert_eq!(path_for(manifest), "has_field");
    }

    #[test]
    fn normal_rcu_wins_over_dev_has_field() {
        // `::has_field` would not resolve when the library itself is built.
        let manifest = r#"
            [dependencies]
            rcu = "0.1"
            [dev-dependencies]
            has-field = "0.1"
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }

    #[test]
    fn renamed_has_field_inline_table() {
        let manifest = r#"
            [dependencies]
            hf = { package = "has-field", version = "0.1" }
        "#;
        assert_eq!(path_for(manifest), "hf");
    }

    #[test]
    fn renamed_rcu_with_dashes() {
        let manifest = r#"
            [dependencies]
            my-rcu = { version = "0.1", package = 'rcu' }
        "#;
        assert_eq!(path_for(manifest), "my_rcu::has_field");
    }

    #[test]
    fn renamed_in_dependency_subtable() {
        let manifest = r#"
            [dependencies.fields]
            package = "has-field"
            version = "0.1"
        "#;
        assert_eq!(path_for(manifest), "fields");
    }

    #[test]
    fn renamed_through_dotted_key() {
        let manifest = r#"
            [dependencies]
            fields.package = "has-field"
            fields.version = "0.1"
        "#;
        assert_eq!(path_for(manifest), "fields");
    }

    #[test]
    fn key_named_has_field_for_other_package() {
        let manifest = r#"
            [dependencies]
            has-field = { package = "some-other-crate", version = "1" }
            rcu = "0.1"
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }

    #[test]
    fn workspace_dependencies() {
        let dotted = r#"
            [dependencies]
            rcu.workspace = true
        "#;
        assert_eq!(path_for(dotted), "rcu::has_field");

        let inline = r#"
            [dependencies]
            has-field = { workspace = true, features = ["derive"] }
        "#;
        assert_eq!(path_for(inline), "has_field");
    }

    #[test]
    fn workspace_root_table_is_not_a_dependency() {
        let manifest = r#"
            [workspace.dependencies]
            has-field = { path = "has-field" }
            [dependencies]
            rcu.workspace = true
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }

    #[test]
    fn target_specific_tables() {
        let quoted_cfg = r#"
            [target.'cfg(target_os = "linux")'.dependencies]
            rcu = "0.1"
        "#;
        assert_eq!(path_for(quoted_cfg), "rcu::has_field");

        let triple_subtable = r#"
            [target."x86_64-unknown-linux-gnu".dev-dependencies.hf]
            package = "has-field"
        "#;
        assert_eq!(path_for(triple_subtable), "hf");
    }

    #[test]
    fn unconditional_table_wins_over_target() {
        let manifest = r#"
            [target.'cfg(windows)'.dependencies]
            has-field = "0.1"
            [dependencies]
            rcu = "0.1"
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }

    #[test]
    fn dev_and_build_dependencies() {
        let dev = "[dev-dependencies]\nrcu = \"0.1\"\n";
        assert_eq!(path_for(dev), "rcu::has_field");

        let build = "[build-dependencies]\nhas-field = \"0.1\"\n";
        assert_eq!(path_for(build), "has_field");
    }

    #[test]
    fn comments_are_ignored() {
        let manifest = r#"
            # [dependencies]
            # rcu = "0.1"
            [dependencies] # has-field = "0.1"
            log = "0.4" # rcu = "0.1"
            # hf = { package = "has-field" }
            tag = { version = "1", features = ["a#b"] } # package = "rcu"
        "#;
        assert_eq!(path_for(manifest), "has_field");
        assert_eq!(Manifest::parse(manifest).dependencies.len(), 2);
    }

    #[test]
    fn hash_inside_string_is_not_a_comment() {
        let manifest = r#"
            [dependencies]
            r = { git = "https://example.invalid/repo#rcu", package = "rcu" }
        "#;
        assert_eq!(path_for(manifest), "r::has_field");
    }

    #[test]
    fn package_named_rcu_is_not_a_dependency() {
        let manifest = r#"
            [package]
            name = "rcu"
            [dependencies]
            has-field = { workspace = true }
        "#;
        assert_eq!(path_for(manifest), "has_field");

        let no_dependencies = "[package]\nname = \"rcu\"\n";
        assert_eq!(path_for(no_dependencies), "has_field");
    }

    #[test]
    fn has_field_package_itself() {
        let manifest = r#"
            [package]
            name = "has-field"
            [dependencies]
            has-field-derive = { workspace = true, optional = true }
            [dev-dependencies]
            rcu = "0.1"
        "#;
        assert_eq!(path_for(manifest), "has_field");
    }

    #[test]
    fn no_dependencies_keeps_default() {
        assert_eq!(path_for(""), "has_field");
        assert_eq!(path_for("[package]\nname = \"user\"\n"), "has_field");
        assert_eq!(path_for("[dependencies]\nlog = \"0.4\"\n"), "has_field");
    }

    #[test]
    fn similar_names_are_not_matches() {
        let manifest = r#"
            [dependencies]
            has-field-derive = "0.1"
            rcu-extra = "0.1"
            has_field = "0.1"
        "#;
        assert_eq!(path_for(manifest), "has_field");
        let dependencies = Manifest::parse(manifest).dependencies;
        assert!(dependencies.iter().all(|d| d.package != RCU));
    }

    #[test]
    fn multi_line_values_are_skipped() {
        let manifest = r#"
            [package]
            name = "user"
            description = """
            [dependencies]
            has-field = "0.1"
            """
            keywords = [
                "rcu",
                "package = 'rcu'",
            ]
            [dependencies]
            fields = { version = "0.1", features = [
                "derive",
            ], package = "rcu" }
        "#;
        assert_eq!(path_for(manifest), "fields::has_field");
        assert_eq!(Manifest::parse(manifest).dependencies.len(), 1);
    }

    #[test]
    fn array_of_tables_is_not_a_dependency() {
        let manifest = r#"
            [[bench]]
            name = "rcu"
            [[example]]
            name = "has-field"
        "#;
        assert_eq!(path_for(manifest), "has_field");
        assert_eq!(Manifest::parse(manifest).package_name, None);
    }

    #[test]
    fn quoted_and_spaced_keys() {
        let manifest = r#"
            [ "dependencies" ]
            "hf" . package = "has-field"
        "#;
        assert_eq!(path_for(manifest), "hf");
    }

    #[test]
    fn invalid_crate_name_is_skipped() {
        let manifest = r#"
            [dependencies]
            "1bad" = { package = "has-field" }
            rcu = "0.1"
        "#;
        assert_eq!(path_for(manifest), "rcu::has_field");
    }
}
