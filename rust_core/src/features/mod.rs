//! Feature scanning: email addresses, URLs, card numbers, wallet addresses and the like,
//! found in one pass over ASCII and UTF-16LE text, checksum-validated where the format
//! has a checksum.

mod extract;
pub mod kind;
pub mod scanner;
pub mod text;
pub mod validate;

pub use kind::{Kind, Kinds};
pub use scanner::{escape, Hit, Scanner};
