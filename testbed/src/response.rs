//! The response check every step uses: is what came back a complete `200`?
//!
//! A step feeds the bytes to a [`ResponseCheck`] as they arrive, in whatever pieces the socket
//! hands out, and calls [`ResponseCheck::finish`] at end-of-file. The check keeps only the
//! response head in memory (the body is counted, not stored), so 10,000 connections cost
//! little, and it fails a response as soon as it can tell it is bad: a non-200 status as soon
//! as the head is in, an oversized body as soon as the limit is passed. The step should then
//! stop reading and close.

use std::fmt;

/// The default limit on a response body: 1 MiB.
pub const DEFAULT_BODY_LIMIT: usize = 1 << 20;

/// The largest response head accepted before the response is called malformed.
pub const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// How many header lines a response head may have.
const MAX_HEADERS: usize = 64;

/// Why a response was not a complete `200`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseError {
    /// The connection closed before a single byte arrived.
    Empty,
    /// The connection closed in the middle of the head.
    IncompleteHead,
    /// The head is not valid HTTP/1.x.
    Malformed(String),
    /// The status was not 200.
    Status {
        /// The status code the server sent.
        code: u16,
        /// Its reason phrase.
        reason: String,
    },
    /// Fewer body bytes than `Content-Length` promised arrived before end-of-file.
    Truncated {
        /// Body bytes received.
        got: u64,
        /// Body bytes promised.
        expected: u64,
    },
    /// More body bytes than `Content-Length` promised.
    TooLong {
        /// Body bytes promised.
        expected: u64,
    },
    /// The body is (or says it will be) over the limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Empty => write!(f, "connection closed before any response"),
            ResponseError::IncompleteHead => {
                write!(f, "connection closed in the middle of the response head")
            }
            ResponseError::Malformed(why) => write!(f, "malformed response: {why}"),
            ResponseError::Status { code, reason } => write!(f, "HTTP status {code} {reason}"),
            ResponseError::Truncated { got, expected } => {
                write!(f, "truncated response: got {got} of {expected} bytes")
            }
            ResponseError::TooLong { expected } => {
                write!(
                    f,
                    "response longer than its Content-Length of {expected} bytes"
                )
            }
            ResponseError::TooLarge { limit } => {
                write!(f, "response too large: body over the {limit}-byte limit")
            }
        }
    }
}

impl std::error::Error for ResponseError {}

/// What a successful response looked like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSummary {
    /// All bytes received, head and body.
    pub bytes: u64,
    /// Body bytes received.
    pub body_bytes: u64,
}

/// The parsed head, once it is complete.
#[derive(Debug, Clone, Copy)]
struct Head {
    /// The body length the server promised, if it did.
    content_length: Option<u64>,
}

// ANCHOR: response_check
/// An incremental check of one HTTP/1.x response. Feed it every byte read, then finish it at
/// end-of-file.
#[derive(Debug)]
pub struct ResponseCheck {
    /// The body limit in bytes.
    limit: usize,
    /// Head bytes buffered until the head is complete; emptied afterwards.
    head_buf: Vec<u8>,
    /// `Some` once the head is complete and accepted (status 200).
    head: Option<Head>,
    /// All bytes fed so far.
    bytes: u64,
    /// Body bytes fed so far.
    body_bytes: u64,
}
// ANCHOR_END: response_check

impl Default for ResponseCheck {
    fn default() -> Self {
        ResponseCheck::new(DEFAULT_BODY_LIMIT)
    }
}

impl ResponseCheck {
    /// A check with a body limit of `limit` bytes.
    pub fn new(limit: usize) -> ResponseCheck {
        ResponseCheck {
            limit,
            head_buf: Vec::new(),
            head: None,
            bytes: 0,
            body_bytes: 0,
        }
    }

    /// All bytes fed so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Takes the next bytes of the response. An `Err` is final: the response is bad, stop
    /// reading.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), ResponseError> {
        self.bytes += data.len() as u64;
        if self.head.is_some() {
            return self.count_body(data.len() as u64);
        }
        self.head_buf.extend_from_slice(data);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut response = httparse::Response::new(&mut headers);
        let head_len = match response.parse(&self.head_buf) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) if self.head_buf.len() > MAX_RESPONSE_HEAD => {
                return Err(ResponseError::Malformed(format!(
                    "response head over {MAX_RESPONSE_HEAD} bytes"
                )));
            }
            // The head is not all here yet.
            Ok(httparse::Status::Partial) => return Ok(()),
            Err(e) => return Err(ResponseError::Malformed(e.to_string())),
        };
        // httparse only accepts HTTP/1.0 and HTTP/1.1, so the version needs no check.
        let code = response.code.unwrap_or_default();
        if code != 200 {
            let reason = response.reason.unwrap_or_default().to_string();
            return Err(ResponseError::Status { code, reason });
        }
        let content_length = content_length(response.headers)?;
        if let Some(length) = content_length
            && length > self.limit as u64
        {
            // No need to read a body we already know is too large.
            return Err(ResponseError::TooLarge { limit: self.limit });
        }
        let body_so_far = (self.head_buf.len() - head_len) as u64;
        self.head = Some(Head { content_length });
        self.head_buf = Vec::new();
        self.count_body(body_so_far)
    }

    /// Counts body bytes against the limit and the promised length.
    fn count_body(&mut self, n: u64) -> Result<(), ResponseError> {
        self.body_bytes += n;
        if self.body_bytes > self.limit as u64 {
            return Err(ResponseError::TooLarge { limit: self.limit });
        }
        match self.head.and_then(|head| head.content_length) {
            Some(expected) if self.body_bytes > expected => {
                Err(ResponseError::TooLong { expected })
            }
            _ => Ok(()),
        }
    }

    /// Whether the whole response is in: the head is complete and the body has reached its
    /// `Content-Length`. Without `Content-Length` only end-of-file ends the body, so this stays
    /// `false`; steps read to end-of-file anyway.
    pub fn is_complete(&self) -> bool {
        matches!(self.head, Some(Head { content_length: Some(n) }) if self.body_bytes == n)
    }

    /// Ends the check at end-of-file.
    pub fn finish(self) -> Result<ResponseSummary, ResponseError> {
        let Some(head) = self.head else {
            return Err(if self.bytes == 0 {
                ResponseError::Empty
            } else {
                ResponseError::IncompleteHead
            });
        };
        if let Some(expected) = head.content_length
            && self.body_bytes < expected
        {
            return Err(ResponseError::Truncated {
                got: self.body_bytes,
                expected,
            });
        }
        Ok(ResponseSummary {
            bytes: self.bytes,
            body_bytes: self.body_bytes,
        })
    }
}

/// The `Content-Length` header, if present; it must be a plain decimal number.
fn content_length(headers: &[httparse::Header<'_>]) -> Result<Option<u64>, ResponseError> {
    let Some(header) = headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case("content-length"))
    else {
        return Ok(None);
    };
    std::str::from_utf8(header.value)
        .ok()
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|v| v.parse().ok())
        .map(Some)
        .ok_or_else(|| {
            ResponseError::Malformed(format!(
                "bad Content-Length {:?}",
                String::from_utf8_lossy(header.value)
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 5\r\n\r\nhello";

    /// A response fed one byte at a time passes, like one fed whole.
    #[test]
    fn accepts_a_response_in_any_pieces() {
        let mut whole = ResponseCheck::default();
        whole.feed(OK).unwrap();
        assert!(whole.is_complete());
        let mut bytewise = ResponseCheck::default();
        for b in OK {
            bytewise.feed(std::slice::from_ref(b)).unwrap();
        }
        let expected = ResponseSummary {
            bytes: OK.len() as u64,
            body_bytes: 5,
        };
        assert_eq!(whole.finish().unwrap(), expected);
        assert_eq!(bytewise.finish().unwrap(), expected);
    }

    /// A body without Content-Length ends at EOF and is accepted.
    #[test]
    fn accepts_a_body_ended_by_close() {
        let mut check = ResponseCheck::default();
        check.feed(b"HTTP/1.1 200 OK\r\n\r\nsome").unwrap();
        check.feed(b" more").unwrap();
        assert!(!check.is_complete());
        assert_eq!(check.finish().unwrap().body_bytes, 9);
    }

    /// Fewer bytes than Content-Length: the truncation message names both numbers.
    #[test]
    fn reports_truncation() {
        let mut check = ResponseCheck::default();
        check
            .feed(b"HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            .unwrap();
        let err = check.finish().unwrap_err();
        assert_eq!(err.to_string(), "truncated response: got 3 of 10 bytes");
    }

    /// A non-200 status fails as soon as the head is in.
    #[test]
    fn fails_on_status_at_once() {
        let mut check = ResponseCheck::default();
        let err = check.feed(b"HTTP/1.0 404 Not Found\r\n\r\n").unwrap_err();
        assert_eq!(err.to_string(), "HTTP status 404 Not Found");
    }

    /// A body over the limit fails at the first byte past it, and a declared length over the
    /// limit fails at the head.
    #[test]
    fn fails_as_soon_as_the_limit_is_passed() {
        let mut check = ResponseCheck::new(10);
        check.feed(b"HTTP/1.0 200 OK\r\n\r\n0123456789").unwrap();
        let err = check.feed(b"x").unwrap_err();
        assert!(err.to_string().starts_with("response too large"), "{err}");

        let mut declared = ResponseCheck::new(10);
        let err = declared
            .feed(b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\n")
            .unwrap_err();
        assert_eq!(err, ResponseError::TooLarge { limit: 10 });
    }

    /// Garbage, an empty connection, a half head and extra bytes are each named.
    #[test]
    fn names_every_other_failure() {
        let mut garbage = ResponseCheck::default();
        assert!(matches!(
            garbage.feed(b"SSH-2.0-OpenSSH\r\n"),
            Err(ResponseError::Malformed(_))
        ));
        assert_eq!(
            ResponseCheck::default().finish().unwrap_err(),
            ResponseError::Empty
        );
        let mut half = ResponseCheck::default();
        half.feed(b"HTTP/1.0 200 OK\r\nContent-").unwrap();
        assert_eq!(half.finish().unwrap_err(), ResponseError::IncompleteHead);
        let mut long = ResponseCheck::default();
        assert_eq!(
            long.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nab"),
            Err(ResponseError::TooLong { expected: 1 })
        );
        let mut bad_length = ResponseCheck::default();
        assert!(matches!(
            bad_length.feed(b"HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n"),
            Err(ResponseError::Malformed(_))
        ));
    }
}
