//! How a command fails: a message for the user and the documented exit code
//! (0 success, 1 data errors, 2 usage or configuration errors).

use std::fmt;

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Exit 1: the data is at fault (validation errors, unreadable or malformed files).
    pub fn data(message: impl Into<String>) -> Failure {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: the command line or configuration is at fault.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// Exit 1 with nothing more to say (the report was already printed).
    pub fn reported() -> Failure {
        Failure::data(String::new())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

pub type CmdResult = Result<(), Failure>;
