//! Checksums and structure checks for feature values, each against its published specification.
