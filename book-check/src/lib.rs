//! # book-check: the book cannot point at code that is not there
//!
//! The book never pastes code: it includes regions of the compiled crates with mdBook's
//! `{{#include path:anchor}}`, where the source marks the region with `// ANCHOR: anchor` and
//! `// ANCHOR_END: anchor`. mdBook itself only warns when a file or an anchor is missing, and
//! renders an empty listing. [`check_book`] turns each such mistake into a [`Problem`], and the
//! crate's test fails on any, so a renamed file or a deleted anchor breaks `cargo test`.
//!
//! Images (`![alt](path)`) are checked too: mdBook copies them without looking.
//!
//! Line-number includes (`{{#include file.rs:10:20}}`) are refused too: they silently show the
//! wrong lines once the file changes, which is exactly the drift anchors prevent.
#![forbid(unsafe_code)]

pub mod batches;
pub mod criterion_table;
pub mod lifecycle;
pub mod stacks;
pub mod states;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// One broken include.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The Markdown file that holds the include.
    pub chapter: PathBuf,
    /// Its line number, from 1.
    pub line: usize,
    /// The include as written.
    pub include: String,
    /// What is wrong with it.
    pub why: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {}: {}",
            self.chapter.display(),
            self.line,
            self.include,
            self.why
        )
    }
}

/// One `{{#include ...}}` (or `{{#rustdoc_include ...}}`) found in a chapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Include {
    /// The directive as written, braces included.
    pub text: String,
    /// The file path, relative to the chapter's folder.
    pub path: String,
    /// What follows the path after `:`, if anything (an anchor name or line numbers).
    pub selector: Option<String>,
    /// Line number in the chapter, from 1.
    pub line: usize,
}

/// Finds the include directives in a chapter's text.
pub fn find_includes(markdown: &str) -> Vec<Include> {
    let mut found = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("{{#") {
            let after = &rest[start + 3..];
            let Some(end) = after.find("}}") else { break };
            // `\{{#include ...}}` is mdBook's escape: shown as text, not included.
            let escaped = rest[..start].ends_with('\\');
            let body = after[..end].trim();
            let directive = body.split_whitespace().next().unwrap_or("");
            if !escaped && (directive == "include" || directive == "rustdoc_include") {
                let spec = body[directive.len()..].trim();
                let (path, selector) = match spec.split_once(':') {
                    Some((path, selector)) => (path.to_string(), Some(selector.to_string())),
                    None => (spec.to_string(), None),
                };
                found.push(Include {
                    text: format!("{{{{#{body}}}}}"),
                    path,
                    selector,
                    line: index + 1,
                });
            }
            rest = &after[end + 2..];
        }
    }
    found
}

/// Checks one include of `chapter` against the file system.
fn check_include(chapter: &Path, include: &Include) -> Option<String> {
    let dir = chapter.parent().unwrap_or(Path::new("."));
    let target = dir.join(&include.path);
    let Ok(source) = fs::read_to_string(&target) else {
        return Some(format!("no such file: {}", target.display()));
    };
    let selector = include.selector.as_deref()?;
    if selector.starts_with(|c: char| c.is_ascii_digit()) || selector.starts_with(':') {
        return Some(
            "includes by line numbers drift when the file changes; mark the region with an ANCHOR"
                .into(),
        );
    }
    let has = |marker: &str| {
        source.lines().any(|line| {
            line.split_once(marker)
                .is_some_and(|(_, name)| name.split_whitespace().next() == Some(selector))
        })
    };
    match (has("ANCHOR:"), has("ANCHOR_END:")) {
        (true, true) => None,
        (false, _) => Some(format!("{} has no `ANCHOR: {selector}`", target.display())),
        (true, false) => Some(format!(
            "{} has no `ANCHOR_END: {selector}`",
            target.display()
        )),
    }
}

/// The local images of a chapter, `![alt](path)`, with their line numbers (from 1). Images on
/// the web (`http:`, `https:`) are not ours to check.
pub fn find_images(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, line) in markdown.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find("![") {
            let after = &rest[start + 2..];
            let Some(open) = after.find("](") else { break };
            let target = &after[open + 2..];
            let Some(close) = target.find(')') else { break };
            let path = target[..close].split_whitespace().next().unwrap_or("");
            if !path.is_empty() && !path.starts_with("http:") && !path.starts_with("https:") {
                found.push((index + 1, path.to_string()));
            }
            rest = &target[close..];
        }
    }
    found
}

/// The lines of a chapter outside fenced code blocks, with their numbers (from 1): headings,
/// links and paths are only looked for there (a `# comment` in a Python listing is not a
/// heading).
fn prose_lines(markdown: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut in_code = false;
    markdown
        .lines()
        .enumerate()
        .filter_map(move |(index, line)| {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
                return None;
            }
            (!in_code).then_some((index + 1, line))
        })
}

/// mdBook's id for a heading's text: letters, digits, `-` and `_` kept (lowercased), spaces
/// turned into `-`, everything else (punctuation, backticks) dropped.
pub fn heading_id(heading: &str) -> String {
    heading
        .chars()
        .filter_map(|c| {
            if c.is_alphanumeric() || c == '_' || c == '-' {
                Some(c.to_ascii_lowercase())
            } else if c.is_whitespace() {
                Some('-')
            } else {
                None
            }
        })
        .collect()
}

/// The ids of a chapter's headings.
pub fn heading_ids(markdown: &str) -> Vec<String> {
    prose_lines(markdown)
        .filter_map(|(_, line)| {
            let text = line.trim_start_matches('#');
            (line.starts_with('#') && text.starts_with(' ')).then(|| heading_id(text.trim()))
        })
        .collect()
}

/// The links of a chapter to other pages of the book or to places in them, `[text](page.md)`,
/// `[text](page.md#id)`, `[text](#id)`, with their line numbers. Links to the web, and images,
/// are not included.
pub fn find_links(markdown: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (line_number, line) in prose_lines(markdown) {
        let mut rest = line;
        while let Some(open) = rest.find("](") {
            let is_image = rest[..open]
                .rfind('[')
                .is_some_and(|i| rest[..i].ends_with('!'));
            let target = &rest[open + 2..];
            let Some(close) = target.find(')') else { break };
            let link = target[..close].split_whitespace().next().unwrap_or("");
            let local = !link.contains("://") && !link.starts_with("mailto:");
            if !is_image && local && (link.starts_with('#') || link.contains(".md")) {
                found.push((line_number, link.to_string()));
            }
            rest = &target[close..];
        }
    }
    found
}

/// The workspace paths a chapter's prose names in backticks (`step05-futures/src/fetch.rs`):
/// anything in backticks that starts with one of the `top_dirs` and a `/`, has no spaces, and
/// names a file (its last part has an extension) or a folder (it ends with `/`). So
/// `step01-blocking/threads`, a variant's name, is not taken for a path.
pub fn find_paths(markdown: &str, top_dirs: &[String]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (line_number, line) in prose_lines(markdown) {
        for (i, span) in line.split('`').enumerate() {
            let quoted = i % 2 == 1;
            let names_a_path = top_dirs.iter().any(|dir| {
                span.strip_prefix(dir.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            });
            let last = span.rsplit('/').next().unwrap_or("");
            let file_or_folder = last.contains('.') || span.ends_with('/');
            if quoted && names_a_path && file_or_folder && !span.contains(char::is_whitespace) {
                found.push((line_number, span.to_string()));
            }
        }
    }
    found
}

/// The commands a page tells the reader to run, with their line numbers: the `$ ` lines of its
/// code blocks (typed ones: included transcripts are made by the generator), and spans in
/// backticks that start with `cargo `. A trailing `# comment` is dropped, and spaces are
/// collapsed.
pub fn find_commands(markdown: &str) -> Vec<(usize, String)> {
    let tidy = |command: &str| {
        let command = match command.find(" #") {
            Some(comment) => &command[..comment],
            None => command,
        };
        command.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let mut found = Vec::new();
    let mut in_code = false;
    for (index, line) in markdown.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            if let Some(command) = line.strip_prefix("$ ") {
                found.push((index + 1, tidy(command)));
            }
            continue;
        }
        for (i, span) in line.split('`').enumerate() {
            if i % 2 == 1 && span.starts_with("cargo ") {
                found.push((index + 1, tidy(span)));
            }
        }
    }
    found
}

/// Whether `command` is one of the commands of `script` (the generator): it appears there as a
/// whole, after line continuations are joined and spaces collapsed, ending where the line, a
/// quote, a pipe, an `&&` or a redirection ends it.
pub fn script_runs(script: &str, command: &str) -> bool {
    let joined = script.replace("\\\n", " ");
    let lines: Vec<String> = joined
        .lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    lines.iter().any(|line| {
        line.match_indices(command).any(|(at, _)| {
            let rest = &line[at + command.len()..];
            rest.is_empty()
                || rest.starts_with(['"', '\''])
                || [" |", " &&", " >", " <"]
                    .iter()
                    .any(|end| rest.starts_with(end))
        })
    })
}

/// Checks every include and every local image in every Markdown file under `book_src`, every
/// link between pages (the page exists, and so does the heading the `#id` names), and every
/// workspace path named in backticks (the file or folder exists).
pub fn check_book(book_src: &Path) -> io::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    for chapter in markdown_files(book_src)? {
        let text = fs::read_to_string(&chapter)?;
        for include in find_includes(&text) {
            if let Some(why) = check_include(&chapter, &include) {
                problems.push(Problem {
                    chapter: chapter.clone(),
                    line: include.line,
                    include: include.text,
                    why,
                });
            }
        }
        let dir = chapter.parent().unwrap_or(Path::new("."));
        for (line, path) in find_images(&text) {
            if !dir.join(&path).is_file() {
                let why = format!("no such image: {}", dir.join(&path).display());
                problems.push(Problem {
                    chapter: chapter.clone(),
                    line,
                    include: format!("![...]({path})"),
                    why,
                });
            }
        }
    }
    problems.extend(check_links_and_paths(book_src)?);
    problems.sort_by_key(|p| (p.chapter.clone(), p.line));
    Ok(problems)
}

/// The link and path half of [`check_book`].
fn check_links_and_paths(book_src: &Path) -> io::Result<Vec<Problem>> {
    let mut problems = Vec::new();
    // The workspace's top folders: the book sits at `<root>/book/src`.
    let root = book_src.join("../..");
    let mut top_dirs = Vec::new();
    if let Ok(entries) = fs::read_dir(&root) {
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if entry.path().is_dir() && !name.starts_with('.') && name != "target" {
                top_dirs.push(name);
            }
        }
    }
    for chapter in markdown_files(book_src)? {
        let text = fs::read_to_string(&chapter)?;
        let dir = chapter.parent().unwrap_or(Path::new("."));
        let mut problem = |line: usize, what: String, why: String| {
            problems.push(Problem {
                chapter: chapter.clone(),
                line,
                include: what,
                why,
            })
        };
        for (line, link) in find_links(&text) {
            let (page, id) = link.split_once('#').unwrap_or((link.as_str(), ""));
            let target = if page.is_empty() {
                chapter.clone()
            } else {
                dir.join(page)
            };
            let Ok(target_text) = fs::read_to_string(&target) else {
                problem(
                    line,
                    format!("({link})"),
                    format!("no such page: {}", target.display()),
                );
                continue;
            };
            if !id.is_empty() && !heading_ids(&target_text).iter().any(|h| h == id) {
                let why = format!("{} has no heading whose id is `{id}`", target.display());
                problem(line, format!("({link})"), why);
            }
        }
        for (line, path) in find_paths(&text, &top_dirs) {
            if !root.join(&path).exists() {
                let why = format!("no such file or folder in the workspace: {path}");
                problem(line, format!("`{path}`"), why);
            }
        }
    }
    Ok(problems)
}

/// Every `.md` file under `dir`, sorted.
fn markdown_files(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "md") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
