//! The word pass: one walk over a run's words (maximal runs of letters and digits) that
//! hands each word to the kinds that start with a word: numbers (IPv4, cards, telephones),
//! IBANs, wallet addresses and BIP-39 phrases.

use super::chars::{all, at, each_word, is, span, string, ALNUM, BASE58, DIGIT, HEX, LOWER, UPPER};
use super::numbers;
use super::Sink;
use crate::features::kind::Kind;
use crate::features::validate::{bip39, crypto, eip55, iban, monero};

/// The kinds found by the word pass.
pub const KINDS: [Kind; 10] = [
    Kind::Ipv4,
    Kind::Ccn,
    Kind::Telephone,
    Kind::Iban,
    Kind::Bitcoin,
    Kind::Litecoin,
    Kind::Tron,
    Kind::Monero,
    Kind::Ethereum,
    Kind::Bip39,
];

pub fn find(text: &[u8], sink: &mut Sink) {
    let numbers = sink.kinds.any(&[Kind::Ipv4, Kind::Ccn, Kind::Telephone]);
    let wallets = sink.kinds.any(&[
        Kind::Bitcoin,
        Kind::Litecoin,
        Kind::Tron,
        Kind::Monero,
        Kind::Ethereum,
    ]);
    let ibans = sink.wants(Kind::Iban);
    let international = if sink.wants(Kind::Telephone) {
        international_numbers(text, sink)
    } else {
        Vec::new()
    };
    let mut inside = international.iter().peekable();
    let mut phrase = sink.wants(Kind::Bip39).then(Phrase::default);
    let mut skip_until = 0; // words inside a number already reported are not numbers themselves
    each_word(text, |s, e| {
        let word = &text[s..e];
        if let Some(p) = phrase.as_mut() {
            p.word(text, s, e, sink);
        }
        while inside.peek().is_some_and(|&&(_, end)| end <= s) {
            inside.next();
        }
        if inside.peek().is_some_and(|&&(start, _)| start <= s) {
            skip_until = skip_until.max(e);
        }
        if s >= skip_until {
            let b = word[0];
            if numbers && is(b, DIGIT) {
                if let Some(end) = number(text, s, e, sink) {
                    skip_until = end;
                }
            } else if ibans && is(b, UPPER) {
                if let Some(end) = iban_at(text, s, e, sink) {
                    skip_until = end;
                }
            }
        }
        if wallets && word.len() >= 25 {
            wallet(word, s, e, sink);
        }
    });
    if let Some(p) = phrase.as_mut() {
        p.flush(text, sink);
    }
}

/// International telephone numbers (`+` and digits), reported; their spans, in order.
fn international_numbers(text: &[u8], sink: &mut Sink) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for plus in memchr::memchr_iter(b'+', text) {
        if spans.last().is_some_and(|&(_, end)| plus < end) || !is(at(text, plus + 1), DIGIT) {
            continue;
        }
        if let Some(end) = numbers::international(text, plus) {
            sink.push(Kind::Telephone, plus, end, string(&text[plus..end]), true);
            spans.push((plus, end));
        }
    }
    spans
}

/// An IPv4 address, card number or North American telephone number starting at digit word s..e.
fn number(text: &[u8], s: usize, e: usize, sink: &mut Sink) -> Option<usize> {
    if sink.wants(Kind::Ipv4) && at(text, e) == b'.' {
        if let Some(end) = numbers::ipv4(text, s) {
            sink.push(Kind::Ipv4, s, end, string(&text[s..end]), true);
            return Some(end);
        }
    }
    if sink.wants(Kind::Ccn) && e - s >= 4 {
        if let Some((end, digits, valid)) = numbers::ccn(text, s) {
            sink.push(Kind::Ccn, s, end, digits, valid);
            return Some(end);
        }
    }
    if sink.wants(Kind::Telephone) && e - s == 3 {
        if let Some((start, end)) = numbers::north_american(text, s) {
            sink.push(Kind::Telephone, start, end, string(&text[start..end]), true);
            return Some(end);
        }
    }
    None
}

/// An IBAN starting at word s..e: one word of 15..=34 characters, or groups of four split by
/// single spaces (the last group shorter), read as far as the checksum holds.
fn iban_at(text: &[u8], s: usize, e: usize, sink: &mut Sink) -> Option<usize> {
    let word = &text[s..e];
    let looks = word.len() >= 4
        && is(word[0], UPPER)
        && is(word[1], UPPER)
        && is(word[2], DIGIT)
        && is(word[3], DIGIT)
        && all(word, UPPER | DIGIT);
    if !looks {
        return None;
    }
    if word.len() >= 15 {
        if word.len() > 34 {
            return None;
        }
        sink.push(Kind::Iban, s, e, string(word), iban::valid(word));
        return Some(e);
    }
    if word.len() != 4 {
        return None;
    }
    let mut value = word.to_vec();
    let mut end = e;
    let mut best: Option<(usize, Vec<u8>, bool)> = None;
    while value.len() < 34 && at(text, end) == b' ' && is(at(text, end + 1), UPPER | DIGIT) {
        let g = span(text, end + 1, ALNUM);
        let group = &text[end + 1..end + 1 + g];
        if g > 4 || !all(group, UPPER | DIGIT) {
            break;
        }
        value.extend_from_slice(group);
        end += 1 + g;
        if value.len() >= 15 {
            let valid = iban::valid(&value);
            if valid || best.as_ref().is_none_or(|b| !b.2) {
                best = Some((end, value.clone(), valid));
            }
            if valid {
                break;
            }
        }
        if g < 4 {
            break;
        }
    }
    let (end, value, valid) = best?;
    sink.push(Kind::Iban, s, end, string(&value), valid);
    Some(end)
}

/// A wallet address: Ethereum `0x`+40 hex, bech32 `bc1`/`ltc1`, Monero, or base58check.
fn wallet(word: &[u8], s: usize, e: usize, sink: &mut Sink) {
    let found = if word.len() == 42 && (word.starts_with(b"0x") || word.starts_with(b"0X")) {
        if !all(&word[2..], HEX) {
            return;
        }
        Some((Kind::Ethereum, matches!(eip55::check(word), eip55::Eip55::Valid)))
    } else if starts_bech32(word) {
        crypto::classify_bech32(word).and_then(|(coin, valid)| Kind::from_name(coin).map(|k| (k, valid)))
    } else if !all(word, BASE58) {
        return;
    } else if (word.len() == 95 || word.len() == 106) && matches!(word[0], b'4' | b'8') {
        Some((Kind::Monero, monero::valid(word)))
    } else if word.len() <= 35 {
        crypto::classify_base58(word).and_then(|(coin, valid)| Kind::from_name(coin).map(|k| (k, valid)))
    } else {
        None
    };
    if let Some((kind, valid)) = found {
        sink.push(kind, s, e, string(word), valid);
    }
}

fn starts_bech32(word: &[u8]) -> bool {
    let p = |prefix: &[u8]| word.len() > prefix.len() && word[..prefix.len()].eq_ignore_ascii_case(prefix);
    p(b"bc1") || p(b"ltc1")
}

/// Streaks of words that could be BIP-39 words (3 to 8 lower-case letters) joined by single
/// spaces. Words are looked up in the list only when a streak reaches twelve, which ordinary
/// prose rarely does, so the common case costs a length and case check per word.
#[derive(Default)]
struct Phrase {
    words: Vec<(usize, usize)>,
}

const PHRASE_LENGTHS: [usize; 5] = [24, 21, 18, 15, 12];

impl Phrase {
    #[inline]
    fn word(&mut self, text: &[u8], s: usize, e: usize, sink: &mut Sink) {
        let candidate = (3..=8).contains(&(e - s)) && all(&text[s..e], LOWER);
        if let Some(&(_, last_end)) = self.words.last() {
            let joined = s == last_end + 1 && text[last_end] == b' ';
            if !(candidate && joined) {
                self.flush(text, sink);
            }
        }
        if candidate {
            self.words.push((s, e));
        }
    }

    /// Judge a streak: each maximal stretch of list words in it is a phrase when its length
    /// is a phrase's length (reported invalid when its checksum fails). A stretch of another
    /// length is no phrase: cutting windows out of it would find, by accident, one checksum
    /// in sixteen that holds.
    fn flush(&mut self, text: &[u8], sink: &mut Sink) {
        if self.words.len() >= 12 {
            let mut stretch: Vec<(usize, usize, u16)> = Vec::new();
            for &(s, e) in &self.words {
                match bip39::word_index(&text[s..e]) {
                    Some(ix) => stretch.push((s, e, ix)),
                    None => judge(&std::mem::take(&mut stretch), text, sink),
                }
            }
            judge(&stretch, text, sink);
        }
        self.words.clear();
    }
}

fn judge(words: &[(usize, usize, u16)], text: &[u8], sink: &mut Sink) {
    let n = words.len();
    if !PHRASE_LENGTHS.contains(&n) {
        return;
    }
    let indices: Vec<u16> = words.iter().map(|w| w.2).collect();
    let (start, end) = (words[0].0, words[n - 1].1);
    sink.push(
        Kind::Bip39,
        start,
        end,
        string(&text[start..end]),
        bip39::valid(&indices),
    );
}
