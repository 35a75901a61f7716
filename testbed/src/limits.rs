//! Making room for many sockets: the open-file limit (RLIMIT_NOFILE).
//!
//! Every socket is a file descriptor, and a process may hold at most its *soft* limit of them
//! (often 1024). A process may raise its soft limit up to its *hard* limit without privileges,
//! so a run that needs more descriptors raises it itself, and says clearly what to do when even
//! the hard limit is too low.

use std::fmt;

use nix::sys::resource::{Resource, getrlimit, setrlimit};

/// Descriptors a run needs beyond one per connection: stdio, the runtime's own (an epoll
/// instance, pipes to the embedded server), a margin for libraries.
pub const SPARE_DESCRIPTORS: u64 = 64;

/// The open-file limit was raised; printing it tells the reader what happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Raised {
    /// The soft limit before.
    pub from: u64,
    /// The soft limit now.
    pub to: u64,
}

impl fmt::Display for Raised {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "raised the open-file limit (RLIMIT_NOFILE) from {} to {}",
            self.from, self.to
        )
    }
}

/// The run needs more descriptors than this process may ever open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitError {
    /// The hard limit is below what is needed.
    HardLimitTooLow {
        /// Descriptors needed.
        needed: u64,
        /// The hard limit.
        hard: u64,
    },
    /// The system refused to read or change the limit.
    System(String),
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LimitError::HardLimitTooLow { needed, hard } => write!(
                f,
                "this run needs about {needed} open files, but the hard open-file limit (RLIMIT_NOFILE) is {hard}. \
                 Raise it (as root: `ulimit -Hn {needed}`; for a user: `nofile` in /etc/security/limits.conf; \
                 for a service: LimitNOFILE=) or run fewer connections"
            ),
            LimitError::System(why) => write!(
                f,
                "cannot change the open-file limit (RLIMIT_NOFILE): {why}"
            ),
        }
    }
}

impl std::error::Error for LimitError {}

/// Makes sure this process may open at least `needed` descriptors, raising the soft limit (to
/// exactly `needed`, never above the hard limit) when it is lower. `Ok(None)` means the limit
/// was already high enough.
pub fn ensure_open_files(needed: u64) -> Result<Option<Raised>, LimitError> {
    let (soft, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| LimitError::System(e.to_string()))?;
    if soft >= needed {
        return Ok(None);
    }
    if hard < needed {
        return Err(LimitError::HardLimitTooLow { needed, hard });
    }
    setrlimit(Resource::RLIMIT_NOFILE, needed, hard)
        .map_err(|e| LimitError::System(e.to_string()))?;
    Ok(Some(Raised {
        from: soft,
        to: needed,
    }))
}

/// Raises the soft limit as far as the hard limit allows: what a server does, since it cannot
/// know how many clients will come.
pub fn raise_to_hard_limit() -> Result<Option<Raised>, LimitError> {
    let (_, hard) =
        getrlimit(Resource::RLIMIT_NOFILE).map_err(|e| LimitError::System(e.to_string()))?;
    // "Unlimited" is not a number setrlimit accepts for RLIMIT_NOFILE on every system; a
    // million descriptors is plenty for anything here.
    ensure_open_files(hard.min(1 << 20))
}

/// Descriptors a run of `connections` connections needs.
pub fn needed_for(connections: usize) -> u64 {
    connections as u64 + SPARE_DESCRIPTORS
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A need above the hard limit is refused with a message naming the limit and the fix.
    #[test]
    fn an_impossible_need_is_explained() {
        let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        if hard == u64::MAX {
            return; // unlimited: nothing is impossible here
        }
        let err = ensure_open_files(hard + 1).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("RLIMIT_NOFILE") && text.contains("ulimit -Hn"),
            "{text}"
        );
    }

    /// A need at or below the soft limit changes nothing.
    #[test]
    fn a_small_need_changes_nothing() {
        assert_eq!(ensure_open_files(3), Ok(None));
    }
}
