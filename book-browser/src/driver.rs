//! The browser: chromedriver started on a free port, and a headless Chromium session through
//! it (fantoccini, a WebDriver client), with the browser's console kept for us to read.

use std::io;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// chromedriver, killed when dropped.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    /// Starts `chromedriver` (the program's path or name) and waits until it answers.
    pub fn start(chromedriver: &str) -> io::Result<Driver> {
        // A free port: bind one, note it, let it go.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!(
                        "cannot start {chromedriver}: {e} (Debian: apt-get install chromium \
                         chromium-driver; or pass --chromedriver PATH)"
                    ),
                )
            })?;
        let driver = Driver { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if started.elapsed() > Duration::from_secs(20) {
                return Err(io::Error::other("chromedriver did not listen within 20 s"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// A new headless Chromium session whose page is `width` by `height` CSS pixels, keeping
    /// the console's messages. (A window cannot be made as narrow as a phone; the page is
    /// given a phone's size by Chromium's device emulation instead, as its developer tools do.)
    pub async fn session(&self, width: u32, height: u32) -> Result<Client, String> {
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "args": [
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--hide-scrollbars",
                    format!("--window-size={},{}", width.max(800), height),
                ],
                "mobileEmulation": {
                    "deviceMetrics": { "width": width, "height": height, "pixelRatio": 1.0 },
                },
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!("an object")
        };
        ClientBuilder::new(HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", self.port))
            .await
            .map_err(|e| format!("cannot start a browser session: {e}"))
    }
}

/// chromedriver's own command for the browser's console: the messages since the last call.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// The console's errors since the last call: messages of level `SEVERE`.
pub async fn console_errors(client: &Client) -> Result<Vec<String>, String> {
    let log = client
        .issue_cmd(BrowserLog)
        .await
        .map_err(|e| format!("cannot read the browser's console: {e}"))?;
    Ok(log
        .as_array()
        .into_iter()
        .flatten()
        .filter(|entry| entry["level"] == "SEVERE")
        .map(|entry| entry["message"].as_str().unwrap_or("?").to_string())
        .collect())
}
