//! Access-Control-Allow-Methods/-Headers/-Expose-Headers parsing and the
//! max-age parsers read server-controlled bytes: they must never panic,
//! and whatever they accept must be tokens.
#![no_main]

use corsair::browser::header_list::parse_token_list;
use corsair::browser::Profile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Split the input into up to four "header lines" on 0xFF.
    let lines: Vec<&[u8]> = data.split(|&b| b == 0xff).take(4).collect();
    if let Ok(Some(tokens)) = parse_token_list(&lines) {
        assert!(tokens.iter().all(|t| corsair::names::is_token(t)));
    }
    for p in Profile::ALL {
        let age = p.max_age(&lines);
        if let Some(cap) = p.max_age_cap() {
            assert!(age <= cap);
        }
    }
});
