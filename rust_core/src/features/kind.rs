//! The kinds of feature the scanners report, with the names used in files and manifests.

/// One kind of feature; `name()` is the file stem of its bulk_extractor-style feature file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Email,
    Url,
    Domain,
    Ipv4,
    Ipv6,
    Telephone,
    Ccn,
    Iban,
    Bitcoin,
    Litecoin,
    Tron,
    Ethereum,
    Monero,
    Onion,
    Bip39,
    PgpPrivateKey,
    SshPrivateKey,
}

impl Kind {
    pub const ALL: [Kind; 17] = [
        Kind::Email,
        Kind::Url,
        Kind::Domain,
        Kind::Ipv4,
        Kind::Ipv6,
        Kind::Telephone,
        Kind::Ccn,
        Kind::Iban,
        Kind::Bitcoin,
        Kind::Litecoin,
        Kind::Tron,
        Kind::Ethereum,
        Kind::Monero,
        Kind::Onion,
        Kind::Bip39,
        Kind::PgpPrivateKey,
        Kind::SshPrivateKey,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Email => "email",
            Kind::Url => "url",
            Kind::Domain => "domain",
            Kind::Ipv4 => "ipv4",
            Kind::Ipv6 => "ipv6",
            Kind::Telephone => "telephone",
            Kind::Ccn => "ccn",
            Kind::Iban => "iban",
            Kind::Bitcoin => "bitcoin",
            Kind::Litecoin => "litecoin",
            Kind::Tron => "tron",
            Kind::Ethereum => "ethereum",
            Kind::Monero => "monero",
            Kind::Onion => "onion",
            Kind::Bip39 => "bip39",
            Kind::PgpPrivateKey => "pgp_private_key",
            Kind::SshPrivateKey => "ssh_private_key",
        }
    }

    pub fn from_name(name: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == name)
    }

    /// Kinds whose values let someone spend money or decrypt: stored in full, redacted in views.
    pub fn sensitive(self) -> bool {
        matches!(
            self,
            Kind::Ccn | Kind::Bip39 | Kind::PgpPrivateKey | Kind::SshPrivateKey
        )
    }

    /// Kinds with a checksum, whose look-alikes are reported only on request, marked invalid.
    pub fn checksummed(self) -> bool {
        matches!(
            self,
            Kind::Ccn
                | Kind::Iban
                | Kind::Bitcoin
                | Kind::Litecoin
                | Kind::Tron
                | Kind::Ethereum
                | Kind::Monero
                | Kind::Onion
                | Kind::Bip39
        )
    }

    pub(crate) fn bit(self) -> u32 {
        1 << (self as u32)
    }
}

/// A set of kinds, as a bit mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kinds(u32);

impl Kinds {
    pub fn all() -> Kinds {
        Kinds(Kind::ALL.iter().fold(0, |m, k| m | k.bit()))
    }

    pub fn of(kinds: &[Kind]) -> Kinds {
        Kinds(kinds.iter().fold(0, |m, k| m | k.bit()))
    }

    pub fn has(self, kind: Kind) -> bool {
        self.0 & kind.bit() != 0
    }

    pub fn any(self, kinds: &[Kind]) -> bool {
        kinds.iter().any(|&k| self.has(k))
    }
}
