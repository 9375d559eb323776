//! Reports for the person operating the program: stalls, panicking callbacks, threads
//! that exit inside a section.
//!
//! Reports go through the `log` facade. A program that installed no logger has `log`'s
//! maximum level at `Off`, and would never see them, so then they go to standard error
//! instead: a stuck grace period must not hang in silence.

use core::fmt;
use log::{Level, LevelFilter};

/// Logs `message` at `level`, or prints it to standard error when no logger is installed.
pub(crate) fn report(level: Level, message: fmt::Arguments<'_>) {
    let max = log::max_level();
    if max == LevelFilter::Off {
        eprintln!("[{level}] {message}");
    } else if level <= max {
        log::log!(level, "{message}");
    }
}

/// Reports at `Level::Warn`; see [`report`].
macro_rules! report_warn {
    ($($arg:tt)+) => {
        $crate::report::report(::log::Level::Warn, ::core::format_args!($($arg)+))
    };
}

/// Reports at `Level::Error`; see [`report`].
macro_rules! report_error {
    ($($arg:tt)+) => {
        $crate::report::report(::log::Level::Error, ::core::format_args!($($arg)+))
    };
}

pub(crate) use {report_error, report_warn};
