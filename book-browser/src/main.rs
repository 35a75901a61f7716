//! The book as readers see it: every page of `SUMMARY.md`, opened in headless Chromium at a
//! laptop's width (1280 px) and a phone's (390 px), and checked for what a reader would
//! notice. No console errors and no failed requests; every figure with a size; nothing wider
//! than the window except inside something that scrolls (a code block); the title and the
//! sidebar's entry those of the chapter; every link to a page of the book going to a page
//! that exists. Then search (a term from each chapter finds it, and the result opens it), the
//! print page (every chapter, every figure), and the figures' contrast on a light and a dark
//! theme. Screenshots of three pages at both widths go to a folder, for a reviewer.
//!
//! ```text
//! mdbook build book
//! cargo run --release -p book-browser -- --book book/book --screenshots target/book-screenshots
//! cargo run --release -p book-browser -- --self-test
//! ```
//!
//! With `BOOK_BROWSER_VERBOSE` set, the contrast check prints every figure's lowest contrast.
//!
//! `--self-test` shows that each check can fail: it breaks a scratch copy of the book in one
//! way at a time (an image removed, a link broken, a wide element, a script error, a wrong
//! title, a figure without its background, search's index removed) and expects that check,
//! and only a failure, to be reported.
#![forbid(unsafe_code)]

mod driver;
mod po;
mod serve;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use fantoccini::{Client, Locator};
use serde_json::Value;

use driver::{Driver, console_errors};
use serve::Server;

/// Check the built book in a real browser.
#[derive(Debug, Parser)]
struct Args {
    /// The built book (what `mdbook build book` writes).
    #[arg(long, default_value = "book/book")]
    book: PathBuf,
    /// The book's sources, for SUMMARY.md.
    #[arg(long, default_value = "book/src")]
    src: PathBuf,
    /// Where to write the screenshots.
    #[arg(long, default_value = "target/book-screenshots")]
    screenshots: PathBuf,
    /// The chromedriver program.
    #[arg(long, default_value = "chromedriver")]
    chromedriver: String,
    /// The edition's translation (a PO file): check the Chinese edition (`--book
    /// book/book/zh-CN --po book/po/zh-CN.po`), whose titles are the translated ones.
    #[arg(long)]
    po: Option<PathBuf>,
    /// Break a scratch copy of the book in each way the checks look for, and check that
    /// each is found.
    #[arg(long)]
    self_test: bool,
}

/// The two widths a page is read at.
const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

/// A term of each page that search must lead to it (among the first five results): (term,
/// page).
const SEARCHES: &[(&str, &str)] = &[
    ("Three pairs of words", "introduction.html"),
    ("thread::scope", "step01-blocking.html"),
    ("EINPROGRESS", "step02-nonblocking.html"),
    ("FD_SETSIZE", "step03-select.html"),
    ("Shared mutable state", "rust-you-need.html"),
    ("add_handler", "step04-callbacks.html"),
    ("RawWakerVTable", "step05-futures.html"),
    ("spawn_blocking", "step06-async-await.html"),
    ("cancel safe", "cancellation.html"),
    ("load shedding", "servers.html"),
    ("PhantomPinned", "pinning.html"),
    ("corosensei", "step07-green-threads.html"),
    ("PEP 3156", "interop.html"),
    ("SQPOLL", "step08-io-uring.html"),
    ("crossbeam", "step09-work-stealing.html"),
    ("What a connection costs", "comparing.html"),
    ("Coroutine", "appendix-python.html"),
    ("Exit status", "appendix-report.html"),
    ("Be a good neighbour", "appendix-real-servers.html"),
    ("Self-pipe", "glossary.html"),
];

/// The edition checked: English, or a translation with its PO file.
struct Edition {
    /// Whether it is a translation.
    translated: bool,
    /// The translation's messages (empty for English).
    messages: std::collections::HashMap<String, String>,
    /// The book's title, as the pages show it.
    book_title: String,
}

impl Edition {
    /// The edition `args` ask for.
    fn of(args: &Args) -> Result<Edition, String> {
        let Some(po) = &args.po else {
            return Ok(Edition {
                translated: false,
                messages: Default::default(),
                book_title: "From blocking to async/await".into(),
            });
        };
        let text = std::fs::read_to_string(po)
            .map_err(|e| format!("cannot read {}: {e}", po.display()))?;
        Ok(Edition {
            translated: true,
            messages: po::translations(&text),
            book_title: "从阻塞到 async/await".into(),
        })
    }

    /// `english` in this edition (unchanged where there is no translation).
    fn translate(&self, english: &str) -> String {
        self.messages
            .get(english)
            .cloned()
            .unwrap_or_else(|| english.to_string())
    }

    /// Whether the other edition is built beside `book` (the Chinese one in its `zh-CN`
    /// folder, the English one in the folder above).
    fn other_built(&self, book: &Path) -> bool {
        if self.translated {
            book.join("../index.html").exists()
        } else {
            book.join("zh-CN/index.html").exists()
        }
    }
}

/// The same for the Chinese edition: Chinese words (which mdBook's own index, splitting words
/// at spaces, could not find: `book/po/cjk_search.py` adds them), and terms that stay as they
/// are there (code, names), some of them written against Chinese text.
const SEARCHES_TRANSLATED: &[(&str, &str)] = &[
    ("三对", "introduction.html"),
    ("thread::scope", "step01-blocking.html"),
    ("非阻塞", "step02-nonblocking.html"),
    ("FD_SETSIZE", "step03-select.html"),
    ("回调", "step04-callbacks.html"),
    ("RawWakerVTable", "step05-futures.html"),
    ("future_sizes", "step06-async-await.html"),
    ("取消安全", "cancellation.html"),
    ("PhantomPinned", "pinning.html"),
    ("绿色线程", "step07-green-threads.html"),
    ("提交队列", "step08-io-uring.html"),
    ("SQPOLL", "step08-io-uring.html"),
    ("工作窃取", "step09-work-stealing.html"),
    ("好邻居", "appendix-real-servers.html"),
];

/// One page of SUMMARY.md: its title there, and its file in the built book.
#[derive(Debug, Clone)]
struct Page {
    title: String,
    html: String,
}

/// The pages of `SUMMARY.md`, in order: every `[Title](file.md)`.
fn pages(summary: &str) -> Vec<Page> {
    let mut pages = Vec::new();
    for line in summary.lines() {
        let Some(open) = line.find('[') else { continue };
        let Some(close) = line[open..].find("](").map(|i| open + i) else {
            continue;
        };
        let Some(end) = line[close..].find(')').map(|i| close + i) else {
            continue;
        };
        let file = &line[close + 2..end];
        if let Some(stem) = file.strip_suffix(".md") {
            let html = if stem == "introduction" || stem == "README" {
                "index.html".to_string()
            } else {
                format!("{stem}.html")
            };
            pages.push(Page {
                title: line[open + 1..close].to_string(),
                html,
            });
        }
    }
    pages
}

/// What the checks found: one line per failure.
#[derive(Default)]
struct Findings {
    failures: Vec<String>,
    checked: usize,
}

impl Findings {
    fn fail(&mut self, what: String) {
        println!("FAIL {what}");
        self.failures.push(what);
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("book-browser: cannot start tokio: {e}");
            return ExitCode::from(1);
        }
    };
    let result = if args.self_test {
        runtime.block_on(self_test(&args))
    } else {
        runtime
            .block_on(check_book(&args, &args.book, All))
            .map(|findings| {
                println!(
                    "{} checks, {} failures; screenshots in {}",
                    findings.checked,
                    findings.failures.len(),
                    args.screenshots.display()
                );
                findings.failures.is_empty()
            })
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("book-browser: error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Which pages to check: all, or one (the self-test's).
#[derive(Clone, Copy)]
enum Scope<'a> {
    All,
    Only(&'a str),
}
use Scope::All;

/// Runs every check on the book in `book`.
async fn check_book(args: &Args, book: &Path, scope: Scope<'_>) -> Result<Findings, String> {
    let summary = std::fs::read_to_string(args.src.join("SUMMARY.md"))
        .map_err(|e| format!("cannot read {}: {e}", args.src.join("SUMMARY.md").display()))?;
    let mut pages = pages(&summary);
    if pages.is_empty() {
        return Err("SUMMARY.md lists no pages".into());
    }
    let edition = Edition::of(args)?;
    for page in &mut pages {
        page.title = edition.translate(&page.title);
    }
    if !book.join("index.html").exists() {
        return Err(format!(
            "{} has no index.html: build the book first (mdbook build book)",
            book.display()
        ));
    }
    let server = Server::start(book).map_err(|e| format!("cannot serve the book: {e}"))?;
    let driver = Driver::start(&args.chromedriver).map_err(|e| e.to_string())?;
    let mut findings = Findings::default();
    let screenshots = matches!(scope, All);
    if screenshots {
        std::fs::create_dir_all(&args.screenshots)
            .map_err(|e| format!("cannot make {}: {e}", args.screenshots.display()))?;
    }
    let mut first_headings = Vec::new();
    let mut figures = 0;
    for (width, height) in WIDTHS {
        let client = driver.session(width, height).await?;
        for page in &pages {
            if let Scope::Only(only) = scope
                && page.html != only
            {
                continue;
            }
            let seen =
                check_page(&client, &server, book, page, width, &edition, &mut findings).await?;
            if width == WIDTHS[0].0 {
                first_headings.extend(seen.first_heading);
                figures += seen.figures;
            }
            if screenshots
                && ["index.html", "step05-futures.html", "comparing.html"].contains(&&*page.html)
            {
                let png = client
                    .screenshot()
                    .await
                    .map_err(|e| format!("screenshot: {e}"))?;
                let file = args.screenshots.join(format!(
                    "{}-{width}.png",
                    page.html.trim_end_matches(".html")
                ));
                std::fs::write(&file, png)
                    .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            }
        }
        if width == WIDTHS[0].0 {
            if matches!(scope, All) || matches!(scope, Scope::Only(p) if p == "index.html") {
                // The self-test needs one search to see it fail, not twenty.
                let terms = if matches!(scope, All) { usize::MAX } else { 2 };
                check_search(&client, &server, &edition, terms, &mut findings).await?;
            }
            if matches!(scope, All) || matches!(scope, Scope::Only(p) if p == "comparing.html") {
                check_themes(&client, &server, scope, &mut findings).await?;
            }
            if matches!(scope, All) {
                check_print(&client, &server, &first_headings, figures, &mut findings).await?;
            }
        }
        let _ = client.close().await;
    }
    Ok(findings)
}

/// What a page check saw that later checks need.
struct Seen {
    first_heading: Option<String>,
    figures: usize,
}

/// Loads `page` at the session's width and checks it.
async fn check_page(
    client: &Client,
    server: &Server,
    book: &Path,
    page: &Page,
    width: u32,
    edition: &Edition,
    findings: &mut Findings,
) -> Result<Seen, String> {
    let at = format!("{} at {width} px", page.html);
    server.take_requests();
    let _ = console_errors(client).await?;
    client
        .goto(&server.url(&page.html))
        .await
        .map_err(|e| format!("{at}: cannot load: {e}"))?;
    // The sidebar and the figures arrive after the load event: wait until the sidebar has its
    // active entry and every image has finished (or failed), for at most five seconds.
    let started = Instant::now();
    let state = loop {
        let state = client
            .execute(include_str!("page.js"), vec![])
            .await
            .map_err(|e| format!("{at}: cannot run the page's checks: {e}"))?;
        let images_done = state["images"]
            .as_array()
            .is_some_and(|images| images.iter().all(|i| i["loaded"] == true));
        if (state["sidebar"].is_string() && images_done)
            || started.elapsed() > Duration::from_secs(5)
        {
            break state;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    findings.checked += 1;

    for error in console_errors(client).await? {
        findings.fail(format!("{at}: console error: {error}"));
    }
    for request in server.take_requests() {
        if request.status >= 400 {
            findings.fail(format!(
                "{at}: failed request: {} ({})",
                request.path, request.status
            ));
        }
    }
    let expected_title = format!("{} - {}", page.title, edition.book_title);
    let title = state["title"].as_str().unwrap_or("");
    if title != expected_title && !(page.html == "index.html" && title.ends_with("async/await")) {
        findings.fail(format!(
            "{at}: title {title:?}, expected {expected_title:?}"
        ));
    }
    match state["sidebar"].as_str() {
        Some(entry) if entry.ends_with(&page.title) => {}
        other => findings.fail(format!(
            "{at}: the sidebar's active entry is {other:?}, expected {:?}",
            page.title
        )),
    }
    let images = state["images"].as_array().cloned().unwrap_or_default();
    for image in &images {
        let size = (image["width"].as_f64(), image["height"].as_f64());
        if image["loaded"] != true || !matches!(size, (Some(w), Some(h)) if w > 0.0 && h > 0.0) {
            findings.fail(format!(
                "{at}: image {} has no size on the page (loaded: {}, {:?})",
                image["src"], image["loaded"], size
            ));
        }
    }
    for svg in state["svgs"].as_array().into_iter().flatten() {
        if svg["width"].as_f64().unwrap_or(0.0) == 0.0
            || svg["height"].as_f64().unwrap_or(0.0) == 0.0
        {
            findings.fail(format!("{at}: an inline SVG has no size"));
        }
    }
    for wide in state["wide"].as_array().into_iter().flatten() {
        findings.fail(format!(
            "{at}: <{}> {:?} is wider than the window (its right edge at {} px): {:?}",
            wide["tag"].as_str().unwrap_or("?"),
            wide["class"].as_str().unwrap_or(""),
            wide["right"],
            wide["text"].as_str().unwrap_or("")
        ));
    }
    // The other edition's link, in the menu bar, to the same page of the other edition.
    match state["edition"].as_str() {
        None => findings.fail(format!("{at}: no link to the other edition")),
        Some(href) => {
            let base = book.join(Path::new(&page.html).parent().unwrap_or(Path::new("")));
            let other = href.split('#').next().unwrap_or("");
            if edition.other_built(book) && !base.join(other).exists() {
                findings.fail(format!(
                    "{at}: the other edition's link goes nowhere: {href}"
                ));
            }
        }
    }
    for link in state["links"].as_array().into_iter().flatten() {
        let Some(link) = link.as_str() else { continue };
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (file, fragment) = link.split_once('#').unwrap_or((link, ""));
        let base = book.join(Path::new(&page.html).parent().unwrap_or(Path::new("")));
        let target = if file.is_empty() {
            base.join(&page.html)
        } else {
            base.join(file)
        };
        if !target.exists() {
            findings.fail(format!("{at}: broken link to {link}"));
            continue;
        }
        // A link to a section must find the section (a heading's id), or it lands at the top.
        if !fragment.is_empty() && target.extension().is_some_and(|e| e == "html") {
            let html = std::fs::read_to_string(&target).unwrap_or_default();
            let fragment = serve::percent_decode(fragment);
            if !html.contains(&format!("id=\"{fragment}\"")) {
                findings.fail(format!("{at}: link to {link}: no such section there"));
            }
        }
    }
    Ok(Seen {
        first_heading: state["h1"]
            .as_array()
            .and_then(|h| h.first())
            .and_then(Value::as_str)
            .map(str::to_string),
        figures: images.len(),
    })
}

/// Search: each term finds its chapter among the first results, and the result opens it.
async fn check_search(
    client: &Client,
    server: &Server,
    edition: &Edition,
    terms: usize,
    findings: &mut Findings,
) -> Result<(), String> {
    let searches = if edition.translated {
        SEARCHES_TRANSLATED
    } else {
        SEARCHES
    };
    for (term, expected) in searches.iter().take(terms) {
        findings.checked += 1;
        let at = format!("search for {term:?}");
        client
            .goto(&server.url("index.html"))
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        let toggle = client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(Locator::Id("mdbook-search-toggle"))
            .await
            .map_err(|e| format!("{at}: no search button: {e}"))?;
        toggle.click().await.map_err(|e| format!("{at}: {e}"))?;
        let bar = client
            .find(Locator::Id("mdbook-searchbar"))
            .await
            .map_err(|e| format!("{at}: no search bar: {e}"))?;
        bar.send_keys(term)
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        // The results come as the index loads and the search runs.
        let started = Instant::now();
        let hrefs = loop {
            let hrefs: Vec<String> = client
                .execute(
                    "return [...document.querySelectorAll('#mdbook-searchresults a')]\
                     .slice(0, 5).map(a => a.getAttribute('href'));",
                    vec![],
                )
                .await
                .map_err(|e| format!("{at}: {e}"))?
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|h| h.as_str().map(str::to_string))
                .collect();
            if !hrefs.is_empty() || started.elapsed() > Duration::from_secs(5) {
                break hrefs;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let Some(hit) = hrefs
            .iter()
            .find(|h| h.split(['?', '#']).next() == Some(expected))
        else {
            findings.fail(format!(
                "{at}: {expected} is not among the first results: {hrefs:?}"
            ));
            continue;
        };
        // A Chinese word (or a pair of its characters) is marked in the teasers of the results
        // whose text has it (book/cjk-search.js remakes the teasers, which mdBook picks by
        // words split at spaces; a result found by its title alone keeps mdBook's).
        if !term.is_ascii() {
            let marked = client
                .execute(
                    "return [...document.querySelectorAll('#mdbook-searchresults .teaser em')]\
                     .map(em => em.textContent);",
                    vec![],
                )
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            let marked: Vec<&str> = marked
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            if !marked.iter().any(|m| !m.is_empty() && term.contains(m)) {
                findings.fail(format!(
                    "{at}: no result's teaser marks it (marked: {marked:?})"
                ));
            }
        }
        let link = client
            .find(Locator::Css(&format!(
                "#mdbook-searchresults a[href=\"{hit}\"]"
            )))
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        link.click().await.map_err(|e| format!("{at}: {e}"))?;
        let url = client
            .current_url()
            .await
            .map_err(|e| format!("{at}: {e}"))?;
        if !url.path().ends_with(expected) {
            findings.fail(format!(
                "{at}: the result opened {url}, expected {expected}"
            ));
        }
    }
    Ok(())
}

/// The print page: every chapter's first heading, and at least as many figures as the
/// chapters have, each with a size.
async fn check_print(
    client: &Client,
    server: &Server,
    headings: &[String],
    figures: usize,
    findings: &mut Findings,
) -> Result<(), String> {
    findings.checked += 1;
    server.take_requests();
    client
        .goto(&server.url("print.html"))
        .await
        .map_err(|e| format!("print.html: {e}"))?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let state = client
        .execute(include_str!("page.js"), vec![])
        .await
        .map_err(|e| format!("print.html: {e}"))?;
    let printed: BTreeSet<&str> = state["h1"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    for heading in headings {
        if !printed.contains(heading.as_str()) {
            findings.fail(format!("print.html: no chapter headed {heading:?}"));
        }
    }
    let images = state["images"].as_array().cloned().unwrap_or_default();
    if images.len() < figures {
        findings.fail(format!(
            "print.html: {} figures, the chapters have {figures}",
            images.len()
        ));
    }
    for image in &images {
        if image["width"].as_f64().unwrap_or(0.0) == 0.0 {
            findings.fail(format!("print.html: image {} has no size", image["src"]));
        }
    }
    for request in server.take_requests() {
        if request.status >= 400 {
            findings.fail(format!("print.html: failed request: {}", request.path));
        }
    }
    Ok(())
}

/// The lowest contrast a figure's text may have against what is behind it: WCAG's minimum
/// for large text and graphics.
const MIN_CONTRAST: f64 = 3.0;

/// The figures on a light theme and a dark one: each text legible against what is behind it.
async fn check_themes(
    client: &Client,
    server: &Server,
    scope: Scope<'_>,
    findings: &mut Findings,
) -> Result<(), String> {
    let pages: Vec<&str> = match scope {
        Scope::All => vec!["step05-futures.html", "comparing.html", "interop.html"],
        Scope::Only(page) => vec![page],
    };
    for theme in ["light", "navy"] {
        for page in &pages {
            findings.checked += 1;
            let at = format!("{page} on the {theme} theme");
            client
                .goto(&server.url(page))
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            client
                .execute(
                    "localStorage.setItem('mdbook-theme', arguments[0]); location.reload();",
                    vec![Value::from(theme)],
                )
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            tokio::time::sleep(Duration::from_millis(300)).await;
            let figures = client
                .execute_async(include_str!("contrast.js"), vec![])
                .await
                .map_err(|e| format!("{at}: {e}"))?;
            if let Some(error) = figures.get("error") {
                findings.fail(format!("{at}: {error}"));
                continue;
            }
            if std::env::var_os("BOOK_BROWSER_VERBOSE").is_some() {
                println!("{at}: {figures}");
            }
            for figure in figures.as_array().into_iter().flatten() {
                let lowest = figure["lowest"].as_f64().unwrap_or(0.0);
                if lowest < MIN_CONTRAST {
                    findings.fail(format!(
                        "{at}: {} has text of contrast {lowest:.1} against {} background \
                         (at least {MIN_CONTRAST} wanted): {:?}",
                        figure["src"].as_str().unwrap_or("?"),
                        figure["background"].as_str().unwrap_or("?"),
                        figure["worst"].as_str().unwrap_or("")
                    ));
                }
            }
        }
    }
    // Back to the default for the next pages.
    let _ = client
        .execute("localStorage.removeItem('mdbook-theme');", vec![])
        .await;
    Ok(())
}

/// One way to break the book, the page it breaks, and what the report must say.
struct Breakage {
    what: &'static str,
    page: &'static str,
    expect: &'static str,
    apply: fn(&Path) -> std::io::Result<()>,
}

/// Replaces the first `from` in `file` (inside `book`) by `to`; fails if `from` is not there.
fn replace_in(book: &Path, file: &str, from: &str, to: &str) -> std::io::Result<()> {
    let path = book.join(file);
    let text = std::fs::read_to_string(&path)?;
    if !text.contains(from) {
        return Err(std::io::Error::other(format!("{from:?} is not in {file}")));
    }
    std::fs::write(&path, text.replacen(from, to, 1))
}

const BREAKAGES: &[Breakage] = &[
    Breakage {
        what: "a figure removed",
        page: "step05-futures.html",
        expect: "failed request: /output/lifecycle.svg",
        apply: |book| std::fs::remove_file(book.join("output/lifecycle.svg")),
    },
    Breakage {
        what: "a link broken",
        page: "glossary.html",
        expect: "broken link to pinning-missing.html",
        apply: |book| {
            replace_in(
                book,
                "glossary.html",
                "href=\"pinning.html\"",
                "href=\"pinning-missing.html\"",
            )
        },
    },
    Breakage {
        what: "a link to a section that is not there",
        page: "glossary.html",
        expect: "no such section there",
        apply: |book| {
            replace_in(
                book,
                "glossary.html",
                "href=\"servers.html#stopping-without-cutting\"",
                "href=\"servers.html#stopping-with-cutting\"",
            )
        },
    },
    Breakage {
        what: "an element wider than a phone",
        page: "step01-blocking.html",
        expect: "is wider than the window",
        apply: |book| {
            replace_in(
                book,
                "step01-blocking.html",
                "<main>",
                "<main><div style=\"width: 600px\">a wide box</div>",
            )
        },
    },
    Breakage {
        what: "a script error",
        page: "step02-nonblocking.html",
        expect: "console error",
        apply: |book| {
            replace_in(
                book,
                "step02-nonblocking.html",
                "<main>",
                "<main><script>throw new Error('broken on purpose')</script>",
            )
        },
    },
    Breakage {
        what: "a wrong title",
        page: "step03-select.html",
        expect: "title \"Something else",
        apply: |book| {
            replace_in(
                book,
                "step03-select.html",
                "<title>Step 3",
                "<title>Something else",
            )
        },
    },
    Breakage {
        what: "a figure without its background, on the dark theme",
        page: "comparing.html",
        expect: "on the navy theme: output/compare.svg has text of contrast",
        apply: |book| {
            replace_in(
                book,
                "output/compare.svg",
                "fill=\"white\"",
                "fill=\"none\"",
            )
        },
    },
    Breakage {
        what: "search's index removed",
        page: "index.html",
        expect: "search for \"Three pairs of words\"",
        apply: |book| {
            for entry in std::fs::read_dir(book)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with("searchindex") {
                    std::fs::remove_file(&path)?;
                }
            }
            Ok(())
        },
    },
];

/// Breaks a scratch copy of the book in each way, and checks that each is found.
async fn self_test(args: &Args) -> Result<bool, String> {
    let mut all_found = true;
    for breakage in BREAKAGES {
        let scratch = std::env::temp_dir().join(format!(
            "book-browser-{}-{}",
            std::process::id(),
            breakage.page
        ));
        let _ = std::fs::remove_dir_all(&scratch);
        copy_dir(&args.book, &scratch).map_err(|e| format!("cannot copy the book: {e}"))?;
        (breakage.apply)(&scratch).map_err(|e| format!("{}: cannot apply: {e}", breakage.what))?;
        let findings = check_book(args, &scratch, Scope::Only(breakage.page)).await;
        let _ = std::fs::remove_dir_all(&scratch);
        let findings = findings?;
        let found = findings
            .failures
            .iter()
            .any(|failure| failure.contains(breakage.expect));
        println!(
            "{} {}: {}",
            if found { "found  " } else { "MISSED " },
            breakage.what,
            if found {
                "reported"
            } else {
                "no failure says so"
            }
        );
        all_found &= found;
    }
    Ok(all_found)
}

/// Copies `from` into a new folder `to`, recursively.
fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SUMMARY.md's entries, with the introduction as `index.html`; headings and other lines
    /// are not pages.
    #[test]
    fn summary_entries_become_pages() {
        let summary = "# Summary\n\n[Introduction](introduction.md)\n\n# The steps\n\n\
                       - [Step 1: Blocking](step01-blocking.md)\n- [Glossary](glossary.md)\n";
        let pages = pages(summary);
        let found: Vec<(&str, &str)> = pages
            .iter()
            .map(|p| (p.title.as_str(), p.html.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("Introduction", "index.html"),
                ("Step 1: Blocking", "step01-blocking.html"),
                ("Glossary", "glossary.html"),
            ]
        );
    }
}
