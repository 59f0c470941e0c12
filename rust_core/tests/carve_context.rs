//! A file whose signature repeats inside it (every header line of an e-mail, `<html>`
//! after its doctype) is carved once, at its real start, not again at each repeat.

use _native::carve::{Carver, FileType};
use _native::noise::noise;

fn plant(file: &[u8], at: usize) -> Vec<u8> {
    let mut data = noise(at + file.len() + 4096, 77);
    data[at..at + file.len()].copy_from_slice(file);
    // End the text where a NUL follows, as text on a disk usually does.
    data[at + file.len()] = 0;
    data
}

fn offsets(data: &[u8], kind: FileType) -> Vec<u64> {
    Carver::new()
        .scan(data, 0, data.len(), true)
        .into_iter()
        .filter(|h| h.kind == kind)
        .map(|h| h.offset)
        .collect()
}

#[test]
fn one_email_is_one_carve_whatever_its_header_lines() {
    let mail = b"Return-Path: <ann@example.org>\r\nReceived: from mx.example.org by mail.example.net\r\n\
Received: from laptop by mx.example.org\r\nMessage-ID: <1@example.org>\r\nMIME-Version: 1.0\r\n\
From: Ann <ann@example.org>\r\nTo: Bob <bob@example.net>\r\nSubject: shipment\r\n\
Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nThe container leaves on Friday.\r\n";
    let data = plant(mail, 3001);
    assert_eq!(offsets(&data, FileType::Eml), vec![3001]);
}

#[test]
fn html_with_a_doctype_is_carved_at_the_doctype_only() {
    let page = b"<!DOCTYPE html>\n<html lang=\"en\">\n<head><title>t</title></head>\n<body><p>x</p></body>\n</html>\n";
    let data = plant(page, 1999);
    assert_eq!(offsets(&data, FileType::Html), vec![1999]);
}

#[test]
fn an_email_right_after_random_bytes_is_a_start_whatever_the_last_byte() {
    let mail = b"Return-Path: <ann@example.org>\nReceived: from mx.example.org by mail.example.net\n\
From: Ann <ann@example.org>\nSubject: shipment\n\nThe container leaves on Friday.\n";
    for last in [b'+', b'}', b'"', b'a'] {
        let mut data = plant(mail, 3001);
        data[3000] = last;
        assert_eq!(
            offsets(&data, FileType::Eml),
            vec![3001],
            "after {:?}",
            last as char
        );
    }
}
