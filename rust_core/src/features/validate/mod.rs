//! Checksums and structure checks for feature values, each against its published specification.
//!
//! Every function takes ASCII bytes as found (or normalised by the scanner), never panics on
//! any input and allocates nothing: the scanner calls them on every candidate in an image.

pub mod base58;
pub mod bech32;
pub mod bip39;
pub mod ccn;
pub mod crypto;
pub mod eip55;
pub mod iban;
pub mod luhn;
pub mod monero;
pub mod onion;
