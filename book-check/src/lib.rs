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

pub mod criterion_table;

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

/// Checks every include and every local image in every Markdown file under `book_src`.
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
    problems.sort_by_key(|p| (p.chapter.clone(), p.line));
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
