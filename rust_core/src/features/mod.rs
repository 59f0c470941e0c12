//! Feature scanning: email addresses, URLs, card numbers, wallet addresses and the like,
//! found in one pass over ASCII and UTF-16LE text, checksum-validated where the format
//! has a checksum.

pub mod validate;
