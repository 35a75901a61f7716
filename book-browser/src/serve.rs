//! A static file server for the built book, on a thread, that remembers every request and its
//! status: a request the book makes for a file that is not there is a failure of the page
//! that made it.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// One request: its path and the status it got.
#[derive(Debug, Clone)]
pub struct Request {
    /// The path asked for, without the query.
    pub path: String,
    /// 200, or 404.
    pub status: u16,
}

/// The server: where it listens, and what it was asked.
pub struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Request>>>,
}

impl Server {
    /// Serves `root` on 127.0.0.1, on a port of the system's choosing.
    pub fn start(root: &Path) -> io::Result<Server> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let (root, log_too) = (root.to_path_buf(), Arc::clone(&log));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, log) = (root.clone(), Arc::clone(&log_too));
                std::thread::spawn(move || {
                    let _ = serve_one(stream, &root, &log);
                });
            }
        });
        Ok(Server { addr, log })
    }

    /// The URL of `page` (a path inside the book, such as `index.html`).
    pub fn url(&self, page: &str) -> String {
        format!("http://{}/{page}", self.addr)
    }

    /// The requests made since the last call, emptied.
    pub fn take_requests(&self) -> Vec<Request> {
        std::mem::take(&mut *self.log.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// The content type of a file, by its extension.
fn content_type(path: &Path) -> &'static str {
    let types: HashMap<&str, &str> = [
        ("html", "text/html; charset=utf-8"),
        ("css", "text/css"),
        ("js", "text/javascript"),
        ("svg", "image/svg+xml"),
        ("png", "image/png"),
        ("json", "application/json"),
        ("woff", "font/woff"),
        ("woff2", "font/woff2"),
        ("ttf", "font/ttf"),
        ("txt", "text/plain; charset=utf-8"),
        ("ico", "image/x-icon"),
    ]
    .into_iter()
    .collect();
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    types
        .get(extension)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// Answers one request (HTTP/1.0 style: one request, then close).
fn serve_one(stream: TcpStream, root: &Path, log: &Mutex<Vec<Request>>) -> io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    // The headers are read and ignored.
    let mut header = String::new();
    while reader.read_line(&mut header)? > 2 {
        header.clear();
    }
    let target = line.split_whitespace().nth(1).unwrap_or("/");
    let path = target.split(['?', '#']).next().unwrap_or("/").to_string();
    let file = resolve(root, &path);
    let mut stream = stream;
    let status = match file.as_deref().map(std::fs::read) {
        Some(Ok(body)) => {
            let kind = content_type(file.as_deref().unwrap_or(Path::new("")));
            write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            stream.write_all(&body)?;
            200
        }
        _ => {
            stream.write_all(
                b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )?;
            404
        }
    };
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(Request { path, status });
    Ok(())
}

/// The file a URL path names inside `root` (`/` is `index.html`); `None` for a path that
/// tries to leave it.
fn resolve(root: &Path, path: &str) -> Option<PathBuf> {
    let relative = path.trim_start_matches('/');
    let relative = if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    };
    if relative.split('/').any(|part| part == "..") {
        return None;
    }
    Some(root.join(percent_decode(&relative)))
}

/// `%20` and friends, back to bytes.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A URL path names a file under the root; `..` is refused; `%20` is a space.
    #[test]
    fn paths_resolve_inside_the_root() {
        let root = Path::new("/book");
        assert_eq!(resolve(root, "/"), Some(PathBuf::from("/book/index.html")));
        assert_eq!(
            resolve(root, "/output/a%20b.svg"),
            Some(PathBuf::from("/book/output/a b.svg"))
        );
        assert_eq!(resolve(root, "/../etc/passwd"), None);
    }
}
