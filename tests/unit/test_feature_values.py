"""The feature forge's validators and generators (cluster/forge/feature_values.py) against the
published vectors of each specification: Keccak-256, EIP-55, BIP-173/BIP-350, BIP-39, Monero's
donation address, Tor's onion v3 encoding, Luhn and IBAN examples; every generated value
valid, every decoy not."""

from __future__ import annotations

import hashlib
import random

import pytest

from cluster.forge import feature_values as fv

# --- Keccak-256 ---------------------------------------------------------------------------------------


def test_keccak256_of_the_empty_string():
    assert fv.keccak256(b"").hex() == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


@pytest.mark.parametrize("n", [0, 1, 55, 135, 136, 137, 272, 500])
def test_the_sponge_with_fips202_padding_is_sha3_256(n):
    # The same permutation with SHA3's domain padding must equal hashlib's SHA3-256, across
    # block boundaries; Keccak-256 differs from it only in the padding byte.
    data = random.Random(n).randbytes(n)
    assert fv.keccak(data, pad=0x06) == hashlib.sha3_256(data).digest()
    assert fv.keccak256(data) != hashlib.sha3_256(data).digest()


# --- EIP-55 ------------------------------------------------------------------------------------------------

EIP55_MIXED = [
    "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
    "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
    "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
    "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
]
EIP55_UNIFORM = [
    "0x52908400098527886E0F7030069857D2E4169EE7",
    "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
    "0xde709f2102306220921060314715629080e2fb77",
    "0x27b1fdb04752bbc536007a920d24acb045561c26",
]


@pytest.mark.parametrize("address", EIP55_MIXED)
def test_eip55_examples(address):
    assert "0x" + fv.eip55(address[2:].lower()) == address
    assert fv.ethereum_ok(address)
    i = max(i for i, c in enumerate(address) if c.isalpha() and i > 1)
    assert not fv.ethereum_ok(address[:i] + address[i].swapcase() + address[i + 1 :])


@pytest.mark.parametrize("address", EIP55_UNIFORM)
def test_all_lower_and_all_upper_are_valid(address):
    assert fv.ethereum_ok(address)


def test_ethereum_length_is_exact():
    assert not fv.ethereum_ok(EIP55_MIXED[0] + "a")
    assert not fv.ethereum_ok(EIP55_MIXED[0][:-1])


# --- bech32 / bech32m ----------------------------------------------------------------------------------------

# (address, scriptPubKey) from BIP-173 and BIP-350's test vectors
SEGWIT_VALID = [
    ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
    (
        "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
        "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
    ),
    (
        "bc1pw508d6qejxtdg4y5r3zarvary0c5xw7kw508d6qejxtdg4y5r3zarvary0c5xw7kt5nd6y",
        "5128751e76e8199196d454941c45d1b3a323f1433bd6751e76e8199196d454941c45d1b3a323f1433bd6",
    ),
    ("BC1SW50QGDZ25J", "6002751e"),
    ("bc1zw508d6qejxtdg4y5r3zarvaryvaxxpcs", "5210751e76e8199196d454941c45d1b3a323"),
    (
        "tb1qqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesrxh6hy",
        "0020000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c",
        "5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433",
    ),
    (
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
        "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    ),
]
# BIP-350's invalid mainnet addresses, each with its reason
SEGWIT_INVALID = [
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # bech32 instead of bech32m
    "BC1S0XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ54WELL",  # bech32 instead of bech32m
    "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # bech32m instead of bech32
    "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # invalid character in checksum
    "BC130XLXVLHEMJA6C4DQV22UAPCTQUPFHLXM9H8Z3K2E72Q4K9HCZ7VQ7ZWS8R",  # invalid witness version
    "bc1pw5dgrnzv",  # program of 1 byte
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v8n0nx0muaewav253zgeav",  # program of 41 bytes
    "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
    "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7v07qwwzcrf",  # zero padding of more than 4 bits
    "bc1gmk9yu",  # empty data section
]


@pytest.mark.parametrize(("address", "script"), SEGWIT_VALID)
def test_segwit_addresses_from_their_witness_programs(address, script):
    spk = bytes.fromhex(script)
    version = spk[0] - 0x50 if spk[0] else 0
    assert spk[1] == len(spk) - 2
    hrp = address[:2].lower()
    assert fv.segwit_encode(hrp, version, spk[2:]) == address.lower()
    assert fv.segwit_decode(hrp, address) == (version, spk[2:])
    if hrp == "bc":
        assert fv.bitcoin_ok(address)


@pytest.mark.parametrize("address", SEGWIT_INVALID)
def test_invalid_segwit_addresses(address):
    assert fv.segwit_decode("bc", address) is None
    assert not fv.bitcoin_ok(address)


def test_bech32_mixed_case_is_invalid():
    assert fv.bech32_decode("bc1qW508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4") is None


def test_litecoin_bech32_uses_its_own_hrp():
    program = bytes(range(20))
    ltc = fv.segwit_encode("ltc", 0, program)
    assert ltc.startswith("ltc1q") and fv.litecoin_ok(ltc) and not fv.bitcoin_ok(ltc)
    assert not fv.litecoin_ok(fv.segwit_encode("bc", 0, program))


# --- base58check: Bitcoin, Litecoin, Tron --------------------------------------------------------------------


def test_the_genesis_address_is_hash160_under_version_zero():
    h160 = bytes.fromhex("62e907b15cbf27d5425399ebf6f0fb50ebb88f18")
    assert fv.b58check_encode(0, h160) == "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
    assert fv.b58check_decode("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa") == (0, h160)
    assert fv.bitcoin_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")
    assert not fv.bitcoin_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")


def test_published_p2sh_and_tron_addresses():
    assert fv.bitcoin_ok("3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy")
    assert fv.tron_ok("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t")  # the USDT TRC-20 contract
    assert not fv.tron_ok("TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6u")


def test_version_bytes_decide_the_coin():
    payload = bytes(range(20))
    ltc_l, ltc_m = fv.b58check_encode(0x30, payload), fv.b58check_encode(0x32, payload)
    assert ltc_l[0] == "L" and ltc_m[0] == "M"
    assert fv.litecoin_ok(ltc_l) and fv.litecoin_ok(ltc_m) and not fv.bitcoin_ok(ltc_l)
    tron = fv.b58check_encode(0x41, payload)
    assert tron[0] == "T" and len(tron) == 34 and fv.tron_ok(tron)
    assert not fv.bitcoin_ok(fv.b58check_encode(0x6F, payload))  # testnet


def test_base58_keeps_leading_zero_bytes():
    assert fv.b58encode(b"\0\0\x01") == "112"
    assert fv.b58decode("112") == b"\0\0\x01"
    assert fv.b58decode("10") is None  # 0 is not base58


# --- Monero ------------------------------------------------------------------------------------------------------

MONERO_DONATION = "44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A"


def test_monero_donation_address():
    assert fv.monero_ok(MONERO_DONATION)
    raw = fv.monero_b58decode(MONERO_DONATION)
    assert raw is not None and len(raw) == 69 and raw[0] == 18
    assert fv.monero_address(18, raw[1:33], raw[33:65]) == MONERO_DONATION
    assert not fv.monero_ok(MONERO_DONATION[:-1] + "B")
    assert not fv.monero_ok(MONERO_DONATION[:-1])


def test_monero_address_kinds_and_lengths():
    rng = random.Random(3)
    spend, view = rng.randbytes(32), rng.randbytes(32)
    standard, sub = fv.monero_address(18, spend, view), fv.monero_address(42, spend, view)
    integrated = fv.monero_address(19, spend, view, rng.randbytes(8))
    assert (standard[0], len(standard)) == ("4", 95)
    assert (sub[0], len(sub)) == ("8", 95)
    assert (integrated[0], len(integrated)) == ("4", 106)
    assert all(fv.monero_ok(a) for a in (standard, sub, integrated))
    assert not fv.monero_ok(fv.monero_address(24, spend, view))  # stagenet


def test_monero_block_base58_round_trip():
    for n in range(0, 20):
        data = bytes(range(n))
        assert fv.monero_b58decode(fv.monero_b58encode(data)) == data


# --- onion v3 ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "duckduckgogg42xjoc72x3sjasowoarfbgcmvfimaftt6twagswzczad.onion",
        "2gzyxa5ihm7nsggfxnu52rck2vv4rvmdlkiu3zzui5du4xyclen53wid.onion",
    ],
)
def test_published_onion_services(address):
    assert fv.onion_ok(address)
    assert fv.onion_ok(address.upper())
    assert fv.normalise("onion", address.upper()) == address
    assert fv.onion_address(fv.base64.b32decode(address[:56].upper())[:32]) == address


def test_onion_checksum_and_version():
    key = bytes(range(32))
    good = fv.onion_address(key)
    assert len(good) == 62 and fv.onion_ok(good)
    assert not fv.onion_ok(fv.onion_address(key, version=2))
    assert not fv.onion_ok(("b" if good[0] != "b" else "c") + good[1:])


# --- BIP-39 -------------------------------------------------------------------------------------------------------

# entropy -> mnemonic, from the official BIP-39 test vectors (english)
BIP39_VECTORS = [
    ("00000000000000000000000000000000", "abandon " * 11 + "about"),
    ("7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "legal winner thank year wave sausage worth useful legal winner thank yellow"),
    (
        "80808080808080808080808080808080",
        "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
    ),
    ("ffffffffffffffffffffffffffffffff", "zoo " * 11 + "wrong"),
    ("000000000000000000000000000000000000000000000000", "abandon " * 17 + "agent"),
    ("ffffffffffffffffffffffffffffffffffffffffffffffff", "zoo " * 17 + "when"),
    ("0000000000000000000000000000000000000000000000000000000000000000", "abandon " * 23 + "art"),
    ("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "zoo " * 23 + "vote"),
    (
        "9e885d952ad362caeb4efe34a8e91bd2",
        "ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
    ),
    (
        "6610b25967cdcca9d59875f5cb50b0ea75433311869e930b",
        "gravity machine north sort system female filter attitude volume fold club stay feature office ecology "
        "stable narrow fog",
    ),
    (
        "68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c",
        "hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis "
        "maple dilemma loan word shrug inflict delay length",
    ),
    ("c0ba5a8e914111210f2bd131f3d5e08d", "scheme spot photo card baby mountain device kick cradle pact join borrow"),
    (
        "f585c11aec520db57dd353c69554b21a89b20fb0650966fa0a9d6f74fd989d8f",
        "void come effort suffer camp survey warrior heavy shoot primary clutch crush open amazing screen patrol group "
        "space point ten exist slush involve unfold",
    ),
]


@pytest.mark.parametrize(("entropy", "mnemonic"), BIP39_VECTORS)
def test_bip39_vectors(entropy, mnemonic):
    assert fv.bip39_from_entropy(bytes.fromhex(entropy)) == mnemonic
    assert fv.bip39_ok(mnemonic)


def test_bip39_rejects_a_wrong_last_word_a_wrong_count_and_double_spaces():
    words = BIP39_VECTORS[8][1].split(" ")
    assert not fv.bip39_ok(" ".join(words[:-1] + ["abandon"]))
    assert not fv.bip39_ok(" ".join(words[:-1]))
    assert not fv.bip39_ok("  ".join(words))
    assert not fv.bip39_ok(" ".join(words[:-1] + ["picnix"]))


def test_the_word_list_is_the_published_one():
    words = fv.bip39_words()
    assert len(words) == 2048 and words[0] == "abandon" and words[-1] == "zoo"
    assert hashlib.sha256(fv.BIP39_PATH.read_bytes()).hexdigest() == fv.BIP39_SHA256


# --- Luhn, cards, IBAN ---------------------------------------------------------------------------------------------


def test_luhn_published_example():
    assert fv.luhn_ok("79927398713")
    assert not fv.luhn_ok("79927398710")
    assert fv.luhn_complete("7992739871") == "79927398713"


@pytest.mark.parametrize(
    ("number", "issuer"),
    [
        ("4111111111111111", "visa"),
        ("4222222222222", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("6011111111111117", "discover"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
        ("6200000000000005", "unionpay"),
    ],
)
def test_published_test_card_numbers(number, issuer):
    assert fv.ccn_ok(number)
    assert fv.card_issuer(number) == issuer


def test_cards_need_luhn_and_an_issuer_and_single_separators():
    assert not fv.ccn_ok("4111111111111112")
    assert not fv.ccn_ok("9111111111111119")  # Luhn holds, no issuer
    assert fv.ccn_text_ok("4111 1111 1111 1111") and fv.ccn_text_ok("4111-1111-1111-1111")
    assert not fv.ccn_text_ok("4111  1111 1111 1111")
    assert fv.normalise("ccn", "3782 822463 10005") == "378282246310005"


@pytest.mark.parametrize(
    "iban",
    [
        "GB82WEST12345698765432",
        "DE89370400440532013000",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "BE68539007547034",
        "CH9300762011623852957",
    ],
)
def test_published_ibans(iban):
    assert fv.iban_ok(iban)
    grouped = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
    assert fv.iban_text_ok(grouped)
    assert fv.normalise("iban", grouped) == iban
    assert fv.iban_with_check(iban[:2], iban[4:]) == iban


def test_iban_checks_mod97_the_country_and_its_length():
    assert not fv.iban_ok("GB82TEST12345698765432")  # Wikipedia's invalid example
    assert not fv.iban_ok(fv.iban_with_check("GB", "WEST123456987654321"))  # 23 characters
    assert not fv.iban_ok(fv.iban_with_check("ZZ", "123456789012345678"))
    assert not fv.iban_text_ok("GB82 WEST 1234 5698 7654 32 1")


# --- network and text kinds -------------------------------------------------------------------------------------------


def test_ipv4():
    assert fv.ipv4_ok("192.168.0.1") and fv.ipv4_ok("0.0.0.0") and fv.ipv4_ok("255.255.255.255")
    for bad in ("256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "1..2.3"):
        assert not fv.ipv4_ok(bad), bad


def test_ipv6():
    for good in ("::1", "fe80::1", "2001:db8::8a2e:370:7334", "2001:0db8:0000:0000:0000:ff00:0042:8329", "FE80::1"):
        assert fv.ipv6_ok(good), good
    for bad in ("12:30:45", "00:1a:2b:3c:4d:5e", "2001:db8::1::2", "1:2:3:4:5:6:7:8:9", "fe80::1%eth0", "a:b"):
        assert not fv.ipv6_ok(bad), bad


def test_email_and_url():
    assert fv.email_ok("first.last+tag@mail.example.co.uk")
    for bad in ("a@localhost", "a@example.c", "a@example.123", "@example.com", "a(at)example.com"):
        assert not fv.email_ok(bad), bad
    assert fv.url_ok("https://docs.Example.com:8443/a/b.html?id=1&x=y#top")
    assert fv.url_ok("ftp://192.168.1.10/pub/") and fv.url_ok("http://[2001:db8::1]/")
    for bad in ("https://example.com/a.", "gopher://example.com/", "http://example", "http://exa mple.com"):
        assert not fv.url_ok(bad), bad
    assert fv.url_host("https://Docs.Example.com:8443/x") == (8, "Docs.Example.com")


def test_telephone():
    for good in ("+44 20 7946 0958", "+81-3-1234-5678", "+61.2.9876.5432", "+49 (89) 1234567", "(212) 555-0147",
                 "212-555-0147"):  # fmt: skip
        assert fv.telephone_ok(good), good
    for bad in ("+1 555", "555-0147", "2024-03-15", "+44 20 7946 0958 1234 5678", "+44  20 7946 0958"):
        assert not fv.telephone_ok(bad), bad


def test_key_blocks_end_at_their_own_end_line():
    block = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----"
    assert fv.is_valid("ssh_private_key", block)
    assert not fv.is_valid("ssh_private_key", block.replace("END RSA", "END DSA"))
    assert not fv.is_valid("ssh_private_key", block.replace("RSA PRIVATE", "RSA PUBLIC"))
    assert not fv.is_valid("pgp_private_key", block)


# --- generators and decoys -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", fv.PLANTED_KINDS)
def test_generated_values_are_valid_and_normalised(kind):
    rng = random.Random(kind)
    for _ in range(60):
        s = fv.make_valid(kind, rng)
        assert s.kind == kind and not s.why
        assert fv.is_valid(kind, s.text), s.text
        assert fv.normalise(kind, s.text) == s.value
        for inner_kind, at, value in s.also:
            raw = s.text[at : at + len(value)]
            assert fv.normalise(inner_kind, raw) == value and fv.is_valid(inner_kind, raw), (s.text, inner_kind)


@pytest.mark.parametrize("kind", fv.PLANTED_KINDS)
def test_every_decoy_fails_validation(kind):
    rng = random.Random(f"decoy {kind}")
    for name in fv.DECOYS[kind]:
        for _ in range(30):
            d = fv.make_decoy(kind, rng, name)
            assert d.why == name and d.value == d.text
            assert not fv.is_valid(kind, d.text), (name, d.text)


def test_decoys_look_like_their_kind():
    rng = random.Random(7)
    assert len(fv.make_decoy("ethereum", rng, "41 hex digits").text) == 43
    assert len(fv.make_decoy("monero", rng, "one character short").text) == 94
    assert len(fv.make_decoy("bip39", rng, "checksum fails").text.split(" ")) in (12, 15, 18, 21, 24)
    assert fv.make_decoy("onion", rng, "checksum fails").text.endswith(".onion")


def test_card_inside_finds_digits_in_other_tokens():
    assert fv.card_inside("0x14Bd1278b1822f838F6a69297040831489a336Ba") == "69297040831489"
    assert fv.card_inside("+44 20 7946 0958") is None


def test_a_misspelt_word_leaves_no_valid_phrase_on_either_side():
    # Each side is a maximal run of list words: a run of 12, 15, ... words with a good
    # checksum would be a real phrase, so the decoy must not leave one.
    rng = random.Random(11)
    index = fv.bip39_index()
    for _ in range(500):
        words = fv.make_decoy("bip39", rng, "one word not in the list").text.split(" ")
        (bad,) = [i for i, w in enumerate(words) if w not in index]
        assert not fv.bip39_ok(" ".join(words[:bad])) and not fv.bip39_ok(" ".join(words[bad + 1 :]))
