//! Reading a request head (bounded in size) and deciding what to do with it.

use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

/// The largest request head the server reads: a head that is not complete within this many
/// bytes is answered with `431 Request Header Fields Too Large`.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// The longest delay `/delay/{ms}` accepts (ten minutes); larger values get `400`.
pub const MAX_DELAY_MS: u64 = 600_000;

/// How many header lines a request may carry before it is answered with `431`.
const MAX_HEADERS: usize = 32;

/// What a request asks the server to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `GET /delay/{ms}` or `GET /`: wait, then answer `200` with a body naming the delay.
    Delay(Duration),
    /// `GET /chaos/reset`: abort the connection (a TCP RST) right after reading the request.
    Reset,
    /// `GET /chaos/hang`: read the request, then never answer; hold the connection until the
    /// client gives up.
    Hang,
    /// `GET /chaos/drip`: a valid `200` response, sent one byte at a time.
    Drip,
    /// `GET /chaos/short`: a `Content-Length` larger than the body that is sent, then close.
    Short,
    /// `GET /chaos/huge`: a `200` whose body (no `Content-Length`, ended by closing) is far
    /// larger than a client's 1 MiB limit.
    Huge,
}

/// The parts of a request head the server cares about.
#[derive(Debug)]
pub struct RequestHead {
    /// `GET`, or whatever else the client sent.
    pub method: String,
    /// The request target as sent, query string included.
    pub path: String,
}

/// A request the server answers with an error status, then closes.
#[derive(Debug)]
pub struct Reject {
    /// The status code: 400, 404, 405, 408 or 431.
    pub status: u16,
    /// The status line's reason phrase.
    pub reason: &'static str,
    /// The body: one line saying what was wrong.
    pub message: String,
}

impl Reject {
    fn new(status: u16, reason: &'static str, message: impl Into<String>) -> Reject {
        Reject {
            status,
            reason,
            message: message.into(),
        }
    }

    /// The answer to a client that did not finish its head in time.
    pub fn head_timeout() -> Reject {
        Reject::new(
            408,
            "Request Timeout",
            "the request head did not arrive in time",
        )
    }
}

/// Why no request head could be read.
#[derive(Debug)]
pub enum HeadError {
    /// The client closed or reset the connection before finishing its head: there is nobody
    /// to answer.
    Gone,
    /// The head is malformed or too large: answer with this and close.
    Rejected(Reject),
}

/// Reads until a whole request head has arrived, never buffering more than
/// [`MAX_HEAD_BYTES`].
pub async fn read_head(stream: &mut TcpStream) -> Result<RequestHead, HeadError> {
    let mut buf = vec![0u8; MAX_HEAD_BYTES];
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            return Err(HeadError::Rejected(Reject::new(
                431,
                "Request Header Fields Too Large",
                format!("the request head is over {MAX_HEAD_BYTES} bytes"),
            )));
        }
        let n = match stream.read(&mut buf[filled..]).await {
            // EOF before the head ended: the client left (or sent half a head and closed).
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => n,
        };
        filled += n;
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf[..filled]) {
            Ok(httparse::Status::Complete(_)) => {
                return Ok(RequestHead {
                    method: request.method.unwrap_or_default().to_string(),
                    path: request.path.unwrap_or_default().to_string(),
                });
            }
            // Not all there yet: read more.
            Ok(httparse::Status::Partial) => {}
            Err(httparse::Error::TooManyHeaders) => {
                return Err(HeadError::Rejected(Reject::new(
                    431,
                    "Request Header Fields Too Large",
                    format!("more than {MAX_HEADERS} header lines"),
                )));
            }
            Err(e) => {
                return Err(HeadError::Rejected(Reject::new(
                    400,
                    "Bad Request",
                    format!("malformed request head: {e}"),
                )));
            }
        }
    }
}

/// Decides what a request head asks for. `default_delay` is the delay of `GET /`.
pub fn route(head: &RequestHead, default_delay: Duration) -> Result<Route, Reject> {
    if head.method != "GET" {
        return Err(Reject::new(
            405,
            "Method Not Allowed",
            format!("only GET is served, not {}", head.method),
        ));
    }
    // The query string plays no part in routing.
    let path = head.path.split('?').next().unwrap_or_default();
    match path {
        "/" => Ok(Route::Delay(default_delay)),
        "/chaos/reset" => Ok(Route::Reset),
        "/chaos/hang" => Ok(Route::Hang),
        "/chaos/drip" => Ok(Route::Drip),
        "/chaos/short" => Ok(Route::Short),
        "/chaos/huge" => Ok(Route::Huge),
        _ => match path.strip_prefix("/delay/") {
            Some(ms) => match ms.parse::<u64>() {
                Ok(ms) if ms <= MAX_DELAY_MS => Ok(Route::Delay(Duration::from_millis(ms))),
                _ => Err(Reject::new(
                    400,
                    "Bad Request",
                    format!(
                        "/delay/{{ms}} takes a whole number of milliseconds up to {MAX_DELAY_MS}, not {ms:?}"
                    ),
                )),
            },
            None => Err(Reject::new(
                404,
                "Not Found",
                format!("nothing is served at {path}"),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> RequestHead {
        RequestHead {
            method: "GET".into(),
            path: path.into(),
        }
    }

    /// Every documented path maps to its route, and the default delay is used for `/`.
    #[test]
    fn routes_the_documented_paths() {
        let default = Duration::from_millis(50);
        assert_eq!(route(&get("/"), default).unwrap(), Route::Delay(default));
        assert_eq!(
            route(&get("/delay/7"), default).unwrap(),
            Route::Delay(Duration::from_millis(7))
        );
        assert_eq!(
            route(&get("/delay/0?x=1"), default).unwrap(),
            Route::Delay(Duration::ZERO)
        );
        assert_eq!(route(&get("/chaos/reset"), default).unwrap(), Route::Reset);
        assert_eq!(route(&get("/chaos/hang"), default).unwrap(), Route::Hang);
        assert_eq!(route(&get("/chaos/drip"), default).unwrap(), Route::Drip);
        assert_eq!(route(&get("/chaos/short"), default).unwrap(), Route::Short);
        assert_eq!(route(&get("/chaos/huge"), default).unwrap(), Route::Huge);
    }

    /// Bad delays are 400, unknown paths 404, other methods 405.
    #[test]
    fn rejects_what_it_does_not_serve() {
        let default = Duration::from_millis(50);
        assert_eq!(route(&get("/delay/abc"), default).unwrap_err().status, 400);
        assert_eq!(route(&get("/delay/-1"), default).unwrap_err().status, 400);
        assert_eq!(
            route(&get("/delay/600001"), default).unwrap_err().status,
            400
        );
        assert_eq!(route(&get("/nope"), default).unwrap_err().status, 404);
        let post = RequestHead {
            method: "POST".into(),
            path: "/".into(),
        };
        assert_eq!(route(&post, default).unwrap_err().status, 405);
    }
}
